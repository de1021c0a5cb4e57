/**
 * Copies a byte stream into a file while hashing it, in large positional writes. Network streams
 * deliver chunks of a few KiB; writing each would cost a syscall per chunk, so chunks are gathered
 * into two preallocated buffers: one fills while the other is being written, which keeps hashing
 * and disk I/O overlapped without allocating per chunk.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { AppError } from '../errors.js';

/** Size of each of the two write buffers. */
export const WRITE_BUFFER_BYTES = 4 << 20;

export interface HashedCopyOptions {
  /** Stop with `digest_mismatch` as soon as more than this many bytes arrive. Defaults to no limit. */
  maxBytes?: number;
  /** Size of each write buffer. Defaults to WRITE_BUFFER_BYTES. */
  bufferBytes?: number;
}

export async function copyHashed(
  source: AsyncIterable<Uint8Array>,
  handle: FileHandle,
  options: HashedCopyOptions = {},
): Promise<{ digest: string; size: number }> {
  const bufferBytes = options.bufferBytes ?? WRITE_BUFFER_BYTES;
  const buffers = [Buffer.allocUnsafe(bufferBytes), Buffer.allocUnsafe(bufferBytes)];
  const hash = createHash('sha256');
  let active = 0;
  let fill = 0;
  let size = 0;
  let position = 0;
  // The write in flight settles to its error (or undefined) so that a failure while the next
  // buffer fills is never an unhandled rejection; it is rethrown at the next wait.
  let pending: Promise<unknown> | undefined;
  const waitForPending = async (): Promise<void> => {
    const error = await pending;
    pending = undefined;
    if (error !== undefined) throw error;
  };

  const flush = async (): Promise<void> => {
    if (fill === 0) return;
    // The other buffer must be written out before it is filled again.
    await waitForPending();
    pending = writeFully(handle, buffers[active]!, fill, position).then(
      () => undefined,
      (err: unknown) => err ?? new Error('write failed'),
    );
    position += fill;
    active ^= 1;
    fill = 0;
  };

  try {
    for await (const chunk of source) {
      if (!(chunk instanceof Uint8Array)) throw new AppError('bad_request', 'blob stream yielded a non-binary chunk');
      size += chunk.byteLength;
      if (options.maxBytes !== undefined && size > options.maxBytes) {
        throw new AppError('digest_mismatch', `blob is larger than its expected size of ${options.maxBytes} bytes`);
      }
      hash.update(chunk);
      let offset = 0;
      while (offset < chunk.byteLength) {
        const n = Math.min(bufferBytes - fill, chunk.byteLength - offset);
        buffers[active]!.set(chunk.subarray(offset, offset + n), fill);
        fill += n;
        offset += n;
        if (fill === bufferBytes) await flush();
      }
    }
    await flush();
    await waitForPending();
  } finally {
    // Never leave a write running against a handle the caller is about to close.
    await pending;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

async function writeFully(handle: FileHandle, buffer: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await handle.write(buffer, done, length - done, position + done);
    done += bytesWritten;
  }
}
