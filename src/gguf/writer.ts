import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.js';
import { fsyncDirectory, tempPathFor } from '../util/atomic-file.js';
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VERSION, GgufValueType } from './constants.js';
import { tensorByteSize } from './ggml-types.js';
import { HeaderEncoder } from './header-encoder.js';
import type { GgufWritableKv } from './metadata-values.js';

/** One tensor to write; its bytes are produced lazily so that big models stream to disk. */
export interface GgufTensorSource {
  name: string;
  /** ggml order: dims[0] is the row length (the contiguous dimension). */
  dims: readonly number[];
  /** ggml type id (see ggml-types.ts). */
  type: number;
  /** Yields the tensor's data in order: exactly tensorByteSize(dims, type) bytes in total. */
  data: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

export interface WriteGgufOptions {
  /** Destination; written under a temporary name in the same directory, then renamed. */
  path: string;
  /** Metadata in file order. `general.alignment`, if present, sets the data alignment. Defaults to none. */
  metadata: readonly GgufWritableKv[];
  /** Tensors in file order. Names are written as given (duplicates included, which tests use). */
  tensors: readonly GgufTensorSource[];
  /** Format version in the header. Defaults to 3. */
  version?: number;
}

export interface WriteGgufResult {
  path: string;
  size: number;
}

/** Flush size for tensor data: large enough to keep syscalls rare, small enough to stay out of memory pressure. */
const WRITE_BUFFER_BYTES = 4 << 20;

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

function alignmentOf(metadata: readonly GgufWritableKv[]): number {
  const entry = metadata.find((e) => e.key === 'general.alignment');
  if (!entry) return GGUF_DEFAULT_ALIGNMENT;
  if (entry.value.type === GgufValueType.ARRAY || typeof entry.value.value !== 'number' || entry.value.value <= 0) {
    throw new AppError('internal', 'general.alignment must be a positive number');
  }
  return entry.value.value;
}

/** Encodes the header (magic through tensor infos) and computes each tensor's data offset. */
function encodeHeader(options: WriteGgufOptions, alignment: number): { header: Buffer; sizes: number[] } {
  const encoder = new HeaderEncoder();
  encoder.u32(GGUF_MAGIC);
  encoder.u32(options.version ?? GGUF_VERSION);
  encoder.u64(options.tensors.length);
  encoder.u64(options.metadata.length);
  for (const entry of options.metadata) {
    encoder.string(entry.key);
    encoder.typed(entry.value);
  }
  const sizes: number[] = [];
  let offset = 0;
  for (const tensor of options.tensors) {
    const size = tensorByteSize(tensor.dims, tensor.type);
    if (size === undefined) {
      throw new AppError('internal', `tensor ${tensor.name}: type ${tensor.type} cannot hold dimensions [${tensor.dims.join(', ')}]`);
    }
    encoder.string(tensor.name);
    encoder.u32(tensor.dims.length);
    for (const d of tensor.dims) encoder.u64(d);
    encoder.u32(tensor.type);
    encoder.u64(offset);
    sizes.push(size);
    offset = alignUp(offset + size, alignment);
  }
  return { header: encoder.toBuffer(), sizes };
}

/** Buffers small chunks into large positional writes. */
class FileSink {
  private buffer = Buffer.alloc(WRITE_BUFFER_BYTES);
  private used = 0;
  position = 0;

  constructor(private readonly handle: fs.FileHandle) {}

  async write(chunk: Uint8Array): Promise<void> {
    let from = 0;
    while (from < chunk.length) {
      const n = Math.min(chunk.length - from, this.buffer.length - this.used);
      this.buffer.set(chunk.subarray(from, from + n), this.used);
      this.used += n;
      from += n;
      if (this.used === this.buffer.length) await this.flush();
    }
    this.position += chunk.length;
  }

  async pad(alignment: number): Promise<void> {
    const padding = alignUp(this.position, alignment) - this.position;
    if (padding > 0) await this.write(new Uint8Array(padding));
  }

  async flush(): Promise<void> {
    let done = 0;
    while (done < this.used) {
      const { bytesWritten } = await this.handle.write(this.buffer, done, this.used - done);
      done += bytesWritten;
    }
    this.used = 0;
  }
}

/**
 * Writes a GGUF file: header, padding to the alignment, then each tensor's data at its
 * aligned offset. Crash-safe (temp name, fsync, rename), and streaming: only one write
 * buffer and the current chunk are in memory, whatever the model size.
 */
export async function writeGgufFile(options: WriteGgufOptions): Promise<WriteGgufResult> {
  const alignment = alignmentOf(options.metadata);
  const { header, sizes } = encodeHeader(options, alignment);
  await fs.mkdir(path.dirname(options.path), { recursive: true });
  const temp = tempPathFor(options.path);
  const handle = await fs.open(temp, 'w', 0o644);
  let size = 0;
  try {
    const sink = new FileSink(handle);
    await sink.write(header);
    for (const [i, tensor] of options.tensors.entries()) {
      await sink.pad(alignment);
      const start = sink.position;
      for await (const chunk of tensor.data()) await sink.write(chunk);
      const written = sink.position - start;
      if (written !== sizes[i]) {
        throw new AppError('internal', `tensor ${tensor.name} produced ${written} bytes, expected ${sizes[i]}`);
      }
    }
    await sink.flush();
    size = sink.position;
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.rename(temp, options.path);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
  await fsyncDirectory(path.dirname(options.path));
  return { path: options.path, size };
}
