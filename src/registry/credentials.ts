/**
 * Where registry credentials come from, in Docker Model Runner's order: a bearer token sent
 * with the request (handled by the authenticator), explicit username/password (the server
 * passes DOCKER_USERNAME/DOCKER_PASSWORD), then the `auths` map of a docker config.json.
 * Credential helpers (`credsStore`, `credHelpers`) are not run. Every credential belongs to one
 * registry and is given to no other: a reference can name any host, and the username and
 * password meant for Docker Hub must not reach a registry that merely asks for them.
 */
import { promises as fs } from 'node:fs';
import { AppError } from '../errors.js';
import { internalRangeOf } from './address-policy.js';
import { DOCKER_HUB } from './reference.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface CredentialStoreOptions {
  /** Username for `registry` when it asks for credentials. Defaults to none. */
  username?: string;
  /** Password or access token paired with `username`. Defaults to none. */
  password?: string;
  /** The one registry `username` and `password` are for ("docker.io", "127.0.0.1:5000"). Defaults to DOCKER_HUB. */
  registry?: string;
  /** Path of a docker config.json whose `auths` map is read on each lookup. Defaults to none (not read). */
  dockerConfigPath?: string;
}

interface DockerConfigAuth {
  auth?: string;
  username?: string;
  password?: string;
}

/**
 * A registry name as references normalise it: Docker Hub's key in config.json is the v1 index
 * URL; other keys are hosts, optionally with a scheme and path.
 */
export function normaliseRegistryName(key: string): string {
  const host = key
    .trim()
    .toLowerCase()
    .replace(/^[a-z]+:\/\//, '')
    .replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

function decodeEntry(entry: DockerConfigAuth): Credentials | undefined {
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.username !== '') {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/** Reads the credentials for `registry` ("docker.io", "127.0.0.1:5000") from a docker config.json. */
export async function readDockerConfigCredentials(configPath: string, registry: string): Promise<Credentials | undefined> {
  let text: string;
  try {
    text = await fs.readFile(configPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AppError('internal', `cannot read docker config ${configPath}: ${(err as Error).message}`, { cause: err });
  }
  let config: { auths?: Record<string, DockerConfigAuth> };
  try {
    config = JSON.parse(text) as typeof config;
  } catch (err) {
    throw new AppError('bad_request', `docker config ${configPath} is not valid JSON`, { cause: err });
  }
  const wanted = normaliseRegistryName(registry);
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (entry && typeof entry === 'object' && normaliseRegistryName(key) === wanted) {
      const credentials = decodeEntry(entry);
      if (credentials) return credentials;
    }
  }
  return undefined;
}

/** Looks up stored credentials for a registry; the bearer-token source is the caller's. */
export class CredentialStore {
  private readonly registry: string;

  constructor(private readonly options: CredentialStoreOptions = {}) {
    this.registry = normaliseRegistryName(options.registry ?? DOCKER_HUB);
  }

  async lookup(registry: string): Promise<Credentials | undefined> {
    const { username, password, dockerConfigPath } = this.options;
    const own = normaliseRegistryName(registry) === this.registry;
    if (own && username !== undefined && username !== '' && password !== undefined) return { username, password };
    if (dockerConfigPath !== undefined) return readDockerConfigCredentials(dockerConfigPath, registry);
    return undefined;
  }
}

/**
 * Whether Basic credentials may travel to `url`: over https, or over plain HTTP to a loopback
 * host only (nothing between us and it could read them).
 */
export function mayCarryCredentials(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  if (url.protocol !== 'http:') return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || internalRangeOf(host) === 'loopback';
}

/** The refusal for credentials that would cross plain HTTP to a host others could listen in on. */
export function plainHttpRefusal(url: URL, registry: string): AppError {
  return new AppError(
    'forbidden',
    `refusing to send the credentials for registry ${registry} to ${url.origin}: plain HTTP to a host that is not loopback would expose them; reach it over https`,
  );
}

export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}
