/**
 * Contract of the OCI distribution client (network only, never the store's layout).
 */

/** A parsed, normalised model reference. */
export interface Reference {
  /** Registry as users name it: "docker.io", "127.0.0.1:5000". */
  registry: string;
  /** Host actually contacted: "registry-1.docker.io" for docker.io. */
  host: string;
  /** Lower-cased repository path: "ai/smollm2". */
  repository: string;
  /** Tag; "latest" when neither tag nor digest was given. Undefined when only a digest was given. */
  tag?: string;
  /** "sha256:..." when the reference pins a digest. */
  digest?: string;
  /** Canonical form stored as a tag: "docker.io/ai/smollm2:latest" (or "...@sha256:..." for digest refs). */
  canonical: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: Record<string, unknown>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ResolvedManifest {
  /** Digest of `bytes` (the model ID once stored). */
  digest: string;
  mediaType: string;
  /** Raw manifest bytes exactly as the registry sent them. */
  bytes: Buffer;
  manifest: ImageManifest;
}

export interface PullAuth {
  /** A bearer token supplied with the request (`bearer-token`); used instead of stored credentials. */
  bearerToken?: string;
}

export interface BlobDownloadOptions extends PullAuth {
  /** Called with the bytes of this blob present so far (including resumed ones), at most every ~100 ms and at the end. */
  onProgress?: (bytesDone: number) => void;
  signal?: AbortSignal;
  /**
   * Where a chunked download records its finished chunks, so that a later call resumes them. The
   * caller owns the file with the partial (creates its name, removes both). Defaults to none:
   * a chunked download then resumes only the prefix a sequential one would.
   */
  chunksPath?: string;
}
