/** Public entry of the OCI distribution client. */
export { RegistryClient, type RegistryClientOptions, DEFAULT_CONCURRENCY } from './client.js';
export { parseReference, parseModelId, usesPlainHttp, type ParseReferenceOptions, type ModelIdQuery, DOCKER_HUB, DEFAULT_TAG } from './reference.js';
export { type PushBlobOptions } from './push.js';
export { type ProxySettings } from './proxy-rules.js';
export { parseWwwAuthenticate, type Challenge } from './www-authenticate.js';
export { readDockerConfigCredentials, type Credentials } from './credentials.js';
export type { Reference, Descriptor, ImageManifest, ResolvedManifest, PullAuth, BlobDownloadOptions } from './types.js';
export { type RegistryClock } from './clock.js';
