import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { AppError } from '../errors.js';

const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** True for `sha256:<64 lower-case hex>`, the only digest form the store accepts. */
export function isSha256Digest(value: string): boolean {
  return SHA256_DIGEST.test(value);
}

/** Validates a digest coming from outside (a manifest, a URL, a tar entry) before it names a file. */
export function assertSha256Digest(value: unknown, what = 'digest'): string {
  if (typeof value !== 'string' || !isSha256Digest(value)) {
    throw new AppError('bad_request', `invalid ${what} ${JSON.stringify(value)}: expected sha256:<64 hex digits>`);
  }
  return value;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256Digest(data: string | Uint8Array): string {
  return `sha256:${sha256Hex(data)}`;
}

export function digestHex(digest: string): string {
  return assertSha256Digest(digest).slice('sha256:'.length);
}

/**
 * Reads of 1 MiB: with the stream's default 64 KiB, a 44 MB file took 74-100 ms to hash instead
 * of 34-39 ms (2-vCPU AMD EPYC, SHA-NI), the rest going to one read per 64 KiB through libuv's pool.
 */
const HASH_READ_BYTES = 1 << 20;

/** Hashes a file (or its first `length` bytes) by streaming it. */
export async function sha256File(file: string, length?: number): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  if (length === 0) return { digest: `sha256:${hash.digest('hex')}`, size: 0 };
  const stream = createReadStream(file, { highWaterMark: HASH_READ_BYTES, ...(length === undefined ? {} : { end: length - 1 }) });
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}
