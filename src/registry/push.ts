/**
 * Pushing: blobs by monolithic upload (POST a session, PUT the bytes with ?digest=), then
 * the manifest. Every request asks for scope `repository:<name>:pull,push`.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { AppError } from '../errors.js';
import { sha256Digest } from '../util/digest.js';
import { retryable } from './http.js';
import { ProgressThrottle } from './progress.js';
import { errorForResponse } from './registry-errors.js';
import { RegistrySession } from './registry-session.js';
import { type RetryPolicy, withRetries } from './retry.js';
import type { Descriptor, PullAuth, Reference } from './types.js';

export interface PushBlobOptions {
  auth?: PullAuth;
  /** Called with bytes sent so far, at most every ~100 ms and at the end. Defaults to none. */
  onProgress?: (bytesDone: number) => void;
  signal?: AbortSignal;
}

/** Whether the repository already holds the blob (HEAD; a redirect to storage also means yes). */
export async function blobExists(session: RegistrySession, ref: Reference, digest: string, auth?: PullAuth, signal?: AbortSignal, actions: 'pull' | 'pull,push' = 'pull'): Promise<boolean> {
  const { response } = await session.request({ ref, method: 'HEAD', path: `blobs/${digest}`, actions, auth, signal, followRedirects: false });
  response.resume();
  const status = response.statusCode ?? 0;
  if ((status >= 200 && status < 300) || (status >= 300 && status < 400)) return true;
  if (status === 404) return false;
  throw await errorForResponse(response, RegistrySession.describe(ref, `blob ${digest}`));
}

/** Counts bytes on their way to the socket. */
class ByteCounter extends Transform {
  bytes = 0;
  constructor(private readonly onBytes: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.onBytes(this.bytes);
    callback(null, chunk);
  }
}

/** Upload URL from a Location header: relative or absolute, with any query it carries kept. */
export function uploadUrl(location: string | undefined, base: URL, digest: string): URL {
  if (!location) throw new AppError('upstream', `registry ${base.host} started an upload without a Location header`);
  const url = new URL(location, base);
  url.searchParams.set('digest', digest);
  return url;
}

export async function pushBlob(
  session: RegistrySession,
  retry: RetryPolicy,
  ref: Reference,
  descriptor: Descriptor,
  openStream: () => NodeJS.ReadableStream,
  options: PushBlobOptions = {},
): Promise<void> {
  const { auth, signal } = options;
  const what = RegistrySession.describe(ref, `blob ${descriptor.digest}`);
  const progress = new ProgressThrottle(options.onProgress);
  if (await withRetries(retry, () => blobExists(session, ref, descriptor.digest, auth, signal, 'pull,push'), signal)) {
    progress.final(descriptor.size);
    return;
  }
  await withRetries(
    retry,
    async () => {
      // A fresh upload session per attempt: a half-sent one cannot be trusted.
      const started = await session.request({ ref, method: 'POST', path: 'blobs/uploads/', headers: { 'content-length': '0' }, actions: 'pull,push', auth, signal, followRedirects: false });
      if (started.response.statusCode !== 202) throw await errorForResponse(started.response, `upload of ${what}`);
      started.response.resume();
      const url = uploadUrl(started.response.headers.location, session.baseUrl(ref), descriptor.digest);
      let counter = new ByteCounter(() => undefined);
      const body = (): NodeJS.ReadableStream => {
        counter = new ByteCounter((n) => progress.report(n));
        const source = openStream();
        // pipe() does not forward errors: a failing source must fail the request.
        source.once('error', (err: Error) => counter.destroy(err));
        return source.pipe(counter);
      };
      const { response } = await session.request({
        ref,
        method: 'PUT',
        url,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(descriptor.size) },
        body,
        actions: 'pull,push',
        auth,
        signal,
      });
      if (response.statusCode !== 201) {
        const error = await errorForResponse(response, `upload of ${what}`);
        if (error.code === 'upstream' && /DIGEST_INVALID|SIZE_INVALID/.test(error.message)) {
          throw new AppError('digest_mismatch', `${what}: the registry says the uploaded bytes do not match (${error.message})`);
        }
        throw error;
      }
      response.resume();
      if (counter.bytes !== descriptor.size) throw retryable(new AppError('upstream', `upload of ${what} sent ${counter.bytes} of ${descriptor.size} bytes`));
    },
    signal,
  );
  progress.final(descriptor.size);
}

/** Puts a manifest under the reference's tag (or digest); returns the manifest's digest. */
export async function pushManifest(session: RegistrySession, retry: RetryPolicy, ref: Reference, bytes: Buffer, mediaType: string, auth?: PullAuth, signal?: AbortSignal): Promise<string> {
  const digest = sha256Digest(bytes);
  const reference = ref.tag ?? ref.digest ?? digest;
  const what = RegistrySession.describe(ref, `manifest ${reference}`);
  await withRetries(
    retry,
    async () => {
      const { response } = await session.request({
        ref,
        method: 'PUT',
        path: `manifests/${reference}`,
        headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
        body: () => bytes,
        actions: 'pull,push',
        auth,
        signal,
      });
      if (response.statusCode !== 201 && response.statusCode !== 200) throw await errorForResponse(response, `upload of ${what}`);
      response.resume();
      const echoed = response.headers['docker-content-digest'];
      if (typeof echoed === 'string' && echoed !== digest) {
        throw new AppError('digest_mismatch', `${what}: the registry stored digest ${echoed}, expected ${digest}`);
      }
    },
    signal,
  );
  return digest;
}
