/**
 * The OCI distribution client the catalog uses: resolve manifests, download blobs into the
 * partial files it is given (resumable, parallel for large layers, digest-verified), and
 * push. Network only: it never decides where a blob lives in the store.
 */
import { promises as fs } from 'node:fs';
import type { Logger } from '../log.js';
import { assertSha256Digest } from '../util/digest.js';
import { RegistryAddressPolicy } from './address-policy.js';
import { type DownloadContext, downloadSequential } from './blob-download.js';
import { MIN_CHUNKED_BYTES } from './chunk-planner.js';
import type { RegistryClock } from './clock.js';
import { downloadChunked } from './chunked-download.js';
import { CredentialStore } from './credentials.js';
import { HttpTransport } from './http.js';
import { defaultHashPlacement, type HashPlacement } from './prefix-hasher.js';
import type { ProxySettings } from './proxy-rules.js';
import { resolveManifest } from './manifest.js';
import { blobExists, pushBlob, type PushBlobOptions, pushManifest } from './push.js';
import { RegistrySession } from './registry-session.js';
import { DEFAULT_RETRIES, DEFAULT_RETRY_DELAY_MS, type RetryPolicy, withRetries } from './retry.js';
import { DEFAULT_STALL_TIMEOUT_MS, STALL_MIN_BYTES, type StallPolicy } from './stall-guard.js';
import type { BlobDownloadOptions, Descriptor, PullAuth, Reference, ResolvedManifest } from './types.js';

export const DEFAULT_CONCURRENCY = 8;

export interface RegistryClientOptions {
  /** Receives retry warnings and token debug lines (never secrets). Defaults to none. */
  logger?: Logger;
  /** Registries reached over plain HTTP besides loopback ones. Defaults to []. */
  insecureRegistries?: readonly string[];
  /** Username for `credentialsRegistry` when it asks for credentials (DOCKER_USERNAME). Defaults to none. */
  username?: string;
  /** Password or access token paired with `username` (DOCKER_PASSWORD). Defaults to none. */
  password?: string;
  /** The one registry `username` and `password` are sent to. Defaults to DOCKER_HUB ("docker.io"). */
  credentialsRegistry?: string;
  /** docker config.json read for `auths` entries when no username is given. Defaults to none. */
  dockerConfigPath?: string;
  /**
   * Most connections for one blob of MIN_CHUNKED_BYTES (16 MiB) or more; 1 disables chunking. A download starts
   * with one and opens more only if it moves less than ~100 MB/s (see chunk-planner.ts). Defaults to DEFAULT_CONCURRENCY (8).
   */
  concurrency?: number;
  /**
   * Cut chunked downloads into chunks of exactly this size (then only blobs larger than it are chunked).
   * Defaults to undefined: chunks adapt to the blob and to the measured rate of a connection (see chunk-planner.ts).
   */
  chunkBytes?: number;
  /** Retries after a transient failure (per request, or per chunk). Defaults to DEFAULT_RETRIES (5). */
  retries?: number;
  /** First backoff delay; each retry doubles it. Defaults to DEFAULT_RETRY_DELAY_MS (500 ms). */
  retryDelayMs?: number;
  /**
   * Milliseconds a registry may leave a response without a byte, or below STALL_MIN_BYTES per
   * such window, before the attempt is abandoned and retried. Defaults to DEFAULT_STALL_TIMEOUT_MS (30 s).
   */
  stallTimeoutMs?: number;
  /**
   * Lists the addresses of a registry's host, to decide whether it lives in a loopback or private
   * range and so may send us into one (redirects, token realms). Defaults to dns.lookup.
   */
  resolveRegistryHost?: (host: string) => Promise<string[]>;
  /**
   * Reads the time (token lifetimes, Retry-After dates) and sleeps between attempts; tests pass
   * one they drive. Defaults to the system clock.
   */
  clock?: RegistryClock;
  /**
   * HTTP_PROXY, HTTPS_PROXY and NO_PROXY (see proxy-rules.ts); the address policy still judges the
   * registry's URLs by where they point, not by the proxy. Defaults to none: every connection direct.
   */
  proxy?: ProxySettings;
  /**
   * Where a download hashes its bytes: 'inline' on the thread that receives them, straight from
   * the read buffer, or 'worker' in a worker thread that reads the file behind the writes (see
   * prefix-hasher.ts). Defaults to defaultHashPlacement(): 'worker' from WORKER_HASH_MIN_CORES
   * (3) cores up, 'inline' below.
   */
  hashPlacement?: HashPlacement;
}

export class RegistryClient {
  private readonly session: RegistrySession;
  private readonly retry: RetryPolicy;
  private readonly concurrency: number;
  private readonly chunkBytes: number | undefined;
  private readonly hashPlacement: HashPlacement;
  private readonly logger?: Logger;

  constructor(options: RegistryClientOptions = {}) {
    const stall: StallPolicy = { timeoutMs: options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS, minBytes: STALL_MIN_BYTES };
    const transport = new HttpTransport({ idleTimeoutMs: stall.timeoutMs, proxy: options.proxy });
    const credentials = new CredentialStore({ username: options.username, password: options.password, registry: options.credentialsRegistry, dockerConfigPath: options.dockerConfigPath });
    const addressPolicy = new RegistryAddressPolicy(options.resolveRegistryHost);
    this.session = new RegistrySession({ transport, credentials, insecureRegistries: options.insecureRegistries, addressPolicy, stall, clock: options.clock, logger: options.logger });
    this.retry = { retries: options.retries ?? DEFAULT_RETRIES, baseDelayMs: options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS, clock: options.clock };
    this.concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
    this.chunkBytes = options.chunkBytes === undefined ? undefined : Math.max(1, options.chunkBytes);
    this.hashPlacement = options.hashPlacement ?? defaultHashPlacement();
    this.logger = options.logger;
  }

  /** Resolves a tag or digest to one image manifest: raw bytes, digest (the model ID) and parsed form. */
  resolveManifest(ref: Reference, auth?: PullAuth, signal?: AbortSignal): Promise<ResolvedManifest> {
    return withRetries(this.retry, () => resolveManifest(this.session, ref, auth, signal), signal, (error, n, delayMs) =>
      this.logger?.warn('manifest request failed; retrying', { registry: ref.registry, repository: ref.repository, attempt: n, delayMs, error: error.message }),
    );
  }

  /**
   * Downloads a blob into `partialPath`, resuming what the file (and its `.chunks` sidecar)
   * already holds. On success the file holds exactly the verified blob; the caller moves it.
   * On a digest or size mismatch the partial is deleted and AppError('digest_mismatch') thrown.
   */
  async downloadBlob(ref: Reference, descriptor: Descriptor, partialPath: string, options: BlobDownloadOptions = {}): Promise<void> {
    assertSha256Digest(descriptor.digest, 'blob digest');
    const ctx: DownloadContext = { session: this.session, retry: this.retry, hashPlacement: this.hashPlacement, logger: this.logger };
    const large = this.chunkBytes === undefined ? descriptor.size >= MIN_CHUNKED_BYTES : descriptor.size > this.chunkBytes;
    // A partial that a chunked download left (its sidecar is there) is finished the same way,
    // whatever the settings say now: a sequential download cannot tell its holes from its bytes.
    const resumesChunks = options.chunksPath !== undefined && (await fs.stat(options.chunksPath).then(() => true, () => false));
    if ((this.concurrency > 1 && large) || resumesChunks) {
      await downloadChunked(ctx, ref, descriptor, partialPath, { maxConnections: this.concurrency, fixedChunkBytes: this.chunkBytes }, options);
    } else {
      await downloadSequential(ctx, ref, descriptor, partialPath, options);
    }
  }

  /** Whether the repository holds a blob. */
  blobExists(ref: Reference, digest: string, auth?: PullAuth, signal?: AbortSignal): Promise<boolean> {
    return withRetries(this.retry, () => blobExists(this.session, ref, digest, auth, signal), signal);
  }

  /** Uploads a blob unless the repository has it; `openStream` is called again for each attempt. */
  async pushBlob(ref: Reference, descriptor: Descriptor, openStream: () => NodeJS.ReadableStream, options: PushBlobOptions = {}): Promise<void> {
    assertSha256Digest(descriptor.digest, 'blob digest');
    return pushBlob(this.session, this.retry, ref, descriptor, openStream, options);
  }

  /** Puts a manifest under `ref`'s tag; returns its digest. Push its blobs first. */
  pushManifest(ref: Reference, bytes: Buffer, mediaType: string, auth?: PullAuth, signal?: AbortSignal): Promise<string> {
    return pushManifest(this.session, this.retry, ref, bytes, mediaType, auth, signal);
  }

  /** Closes idle keep-alive connections. */
  dispose(): void {
    this.session.transport.close();
  }
}
