import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.js';
import { ByteReader } from './byte-reader.js';
import { fixedValueSize, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GgufValueType, isGgufValueType } from './constants.js';
import type { GgufArray, GgufFile, GgufMetadataEntry, GgufTensorInfo, GgufValue } from './types.js';

export interface ReadGgufOptions {
  /** Items materialised per array; longer arrays keep their length and first items. Defaults to 1024. */
  maxArrayItems?: number;
}

export const DEFAULT_MAX_ARRAY_ITEMS = 1024;
/** Far above any real file (a few dozen KVs, a few thousand tensors), low enough to bound memory. */
export const MAX_KV_COUNT = 1 << 16;
export const MAX_TENSOR_COUNT = 1 << 20;
/** Chat templates are the longest strings in practice (tens of KB). */
export const MAX_STRING_BYTES = 16 << 20;
/** ggml's GGML_MAX_DIMS. */
export const MAX_TENSOR_DIMS = 4;
/** Nested arrays are legal in the format (ggml itself refuses them); bound the recursion. */
const MAX_ARRAY_DEPTH = 4;
const SUPPORTED_VERSIONS = [2, 3];

/** Smallest encodings, used to reject counts that the remaining bytes cannot possibly hold. */
const MIN_KV_BYTES = 8 + 1 + 4 + 1; // key length, a 1-byte key, type, a 1-byte value
const MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 8 + 4 + 8; // name length, 1-byte name, n_dims, one dim, type, offset

const f32Scratch = new Float32Array(1);

/** The shortest decimal that reads back as the same float32 (what a float-aware printer shows). */
function shortestFloat32(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  f32Scratch[0] = value;
  for (let precision = 1; precision <= 9; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === f32Scratch[0]) return candidate;
  }
  return value;
}

function bigToNumber(value: bigint): number | bigint {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value;
}

class HeaderParser {
  constructor(
    private readonly reader: ByteReader,
    private readonly fail: (what: string) => never,
    private readonly maxArrayItems: number,
  ) {}

  /** A u64 count or length, rejected when above `max` (before anything is allocated for it). */
  async count(what: string, max: number, unit: string): Promise<number> {
    const value = await this.reader.u64(what);
    if (value > BigInt(max)) this.fail(`${what} ${value} is too large (at most ${max} ${unit})`);
    return Number(value);
  }

  async string(what: string): Promise<string> {
    const length = await this.count(`${what} length`, MAX_STRING_BYTES, 'bytes');
    if (length > this.reader.remaining) {
      this.fail(`${what} length ${length} at byte ${this.reader.position} runs past the end of the file (${this.reader.fileSize} bytes)`);
    }
    return (await this.reader.bytes(length, what)).toString('utf8');
  }

  private async skipString(what: string): Promise<void> {
    const length = await this.count(`${what} length`, MAX_STRING_BYTES, 'bytes');
    this.reader.skip(length, what);
  }

  async value(type: GgufValueType, what: string, depth = 0): Promise<GgufValue> {
    const r = this.reader;
    switch (type) {
      case GgufValueType.UINT8: return r.u8(what);
      case GgufValueType.INT8: return r.i8(what);
      case GgufValueType.UINT16: return r.u16(what);
      case GgufValueType.INT16: return r.i16(what);
      case GgufValueType.UINT32: return r.u32(what);
      case GgufValueType.INT32: return r.i32(what);
      case GgufValueType.FLOAT32: return shortestFloat32(await r.f32(what));
      case GgufValueType.FLOAT64: return r.f64(what);
      case GgufValueType.UINT64: return bigToNumber(await r.u64(what));
      case GgufValueType.INT64: return bigToNumber(await r.i64(what));
      case GgufValueType.BOOL: {
        const byte = await r.u8(what);
        if (byte > 1) this.fail(`${what} is a bool with the invalid value ${byte}`);
        return byte === 1;
      }
      case GgufValueType.STRING: return this.string(what);
      case GgufValueType.ARRAY: return this.array(what, depth);
      default: return this.fail(`${what} has the unknown value type ${String(type)}`);
    }
  }

  private async valueType(what: string): Promise<GgufValueType> {
    const type = await this.reader.u32(`${what} type`);
    if (!isGgufValueType(type)) this.fail(`${what} has the unknown value type ${type}`);
    return type;
  }

  private async array(what: string, depth: number): Promise<GgufArray> {
    if (depth >= MAX_ARRAY_DEPTH) this.fail(`${what} nests arrays deeper than ${MAX_ARRAY_DEPTH} levels`);
    const itemType = await this.valueType(`${what} item`);
    const fixed = fixedValueSize(itemType);
    const minItemBytes = fixed ?? (itemType === GgufValueType.STRING ? 8 : 12);
    const length = await this.count(`${what} length`, Number.MAX_SAFE_INTEGER, 'items');
    if (length * minItemBytes > this.reader.remaining) {
      this.fail(`${what} length ${length} at byte ${this.reader.position} cannot fit in the rest of the file (${this.reader.remaining} bytes)`);
    }
    const kept = Math.min(length, this.maxArrayItems);
    const items: GgufValue[] = [];
    const strings = itemType === GgufValueType.STRING;
    for (let i = 0; i < kept; i++) items.push((strings ? this.reader.bufferedString(MAX_STRING_BYTES) : undefined) ?? (await this.value(itemType, `${what}[${i}]`, depth + 1)));
    if (kept < length) {
      if (fixed !== undefined) this.reader.skip((length - kept) * fixed, what);
      else for (let i = kept; i < length; i++) if (!(strings && this.reader.skipBufferedString(MAX_STRING_BYTES))) await this.skipValue(itemType, `${what}[${i}]`, depth + 1);
    }
    return { itemType, length, items, truncated: kept < length };
  }

  /** Walks past a variable-size value without materialising it (the tail of a vocabulary). */
  private async skipValue(type: GgufValueType, what: string, depth: number): Promise<void> {
    if (type === GgufValueType.STRING) return this.skipString(what);
    if (depth >= MAX_ARRAY_DEPTH) this.fail(`${what} nests arrays deeper than ${MAX_ARRAY_DEPTH} levels`);
    const itemType = await this.valueType(`${what} item`);
    const fixed = fixedValueSize(itemType);
    const length = await this.count(`${what} length`, Number.MAX_SAFE_INTEGER, 'items');
    if (length * (fixed ?? 8) > this.reader.remaining) this.fail(`${what} length ${length} cannot fit in the rest of the file`);
    if (fixed !== undefined) return this.reader.skip(length * fixed, what);
    for (let i = 0; i < length; i++) await this.skipValue(itemType, `${what}[${i}]`, depth + 1);
  }

  async metadata(count: number): Promise<Map<string, GgufMetadataEntry>> {
    const metadata = new Map<string, GgufMetadataEntry>();
    for (let i = 0; i < count; i++) {
      const key = await this.string(`key ${i}`);
      if (key.length === 0) this.fail(`key ${i} is empty`);
      if (metadata.has(key)) this.fail(`duplicate key "${key}"`);
      const type = await this.valueType(`value of "${key}"`);
      metadata.set(key, { type, value: await this.value(type, `value of "${key}"`) });
    }
    return metadata;
  }

  async tensorInfos(count: number): Promise<GgufTensorInfo[]> {
    const tensors: GgufTensorInfo[] = [];
    for (let i = 0; i < count; i++) {
      const name = await this.string(`name of tensor ${i}`);
      const what = `tensor "${name}"`;
      const nDims = await this.reader.u32(`${what} dimension count`);
      if (nDims > MAX_TENSOR_DIMS) this.fail(`${what} has ${nDims} dimensions (at most ${MAX_TENSOR_DIMS})`);
      const dims: number[] = [];
      for (let d = 0; d < nDims; d++) {
        const dim = await this.reader.u64(`${what} dimension ${d}`);
        if (dim > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} dimension ${d} is ${dim}, which is out of range`);
        dims.push(Number(dim));
      }
      const type = await this.reader.u32(`${what} type`);
      const offset = await this.reader.u64(`${what} offset`);
      if (offset > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} data offset ${offset} is out of range`);
      tensors.push({ name, dims, type, offset: Number(offset) });
    }
    return tensors;
  }
}

function alignmentOf(metadata: Map<string, GgufMetadataEntry>, fail: (what: string) => never): number {
  const entry = metadata.get('general.alignment');
  if (!entry) return GGUF_DEFAULT_ALIGNMENT;
  if (entry.type !== GgufValueType.UINT32) fail(`general.alignment must be a UINT32, found type ${entry.type}`);
  const value = entry.value as number;
  if (value === 0 || (value & (value - 1)) !== 0) fail(`general.alignment ${value} is not a power of two`);
  return value;
}

/**
 * Parses a GGUF (v2/v3) header with bounded positional reads: metadata, tensor infos and
 * where the data starts. Tensor data is never read. Any malformed input becomes
 * AppError('bad_request', 'invalid GGUF file <name>: <what>').
 */
export async function readGgufFile(file: string, options: ReadGgufOptions = {}): Promise<GgufFile> {
  const name = path.basename(file);
  const fail = (what: string): never => {
    throw new AppError('bad_request', `invalid GGUF file ${name}: ${what}`);
  };
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AppError('not_found', `GGUF file ${name} does not exist`, { cause: err });
    throw new AppError('bad_request', `cannot open GGUF file ${name}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) fail('not a regular file');
    if (stat.size === 0) fail('the file is empty');
    const reader = new ByteReader(handle, stat.size, fail);
    const parser = new HeaderParser(reader, fail, options.maxArrayItems ?? DEFAULT_MAX_ARRAY_ITEMS);
    const magic = await reader.u32('magic');
    if (magic !== GGUF_MAGIC) fail(`wrong magic 0x${magic.toString(16).padStart(8, '0')} (expected "GGUF")`);
    const version = await reader.u32('version');
    if (!SUPPORTED_VERSIONS.includes(version)) fail(`unsupported version ${version} (expected 2 or 3)`);
    const tensorCount = await parser.count('tensor count', MAX_TENSOR_COUNT, 'tensors');
    const kvCount = await parser.count('metadata count', MAX_KV_COUNT, 'entries');
    if (kvCount * MIN_KV_BYTES + tensorCount * MIN_TENSOR_INFO_BYTES > reader.remaining) {
      fail(`${kvCount} metadata entries and ${tensorCount} tensors cannot fit in a ${stat.size}-byte file`);
    }
    const metadata = await parser.metadata(kvCount);
    const alignment = alignmentOf(metadata, fail);
    const tensors = await parser.tensorInfos(tensorCount);
    const dataOffset = Math.ceil(reader.position / alignment) * alignment;
    return { path: file, version, fileSize: stat.size, metadata, tensors, alignment, dataOffset };
  } finally {
    await handle.close();
  }
}
