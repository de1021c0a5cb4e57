/**
 * The format of a saved prompt prefix: the bytes llama.cpp wrote (llama_state_seq_save_file: its
 * magic, version, the tokens, then the sequence's KV cells), followed by a trailer of ours, a JSON
 * header naming the model, build and key with the size and SHA-256 of llama.cpp's bytes, its
 * length, and a magic. llama.cpp reads exactly its own part and ignores what follows, so the file
 * loads as it is; the trailer lets us refuse a truncated, corrupt or foreign file before llama.cpp
 * sees it, since a malformed state can abort the whole process.
 */
import type { FileHandle } from 'node:fs/promises';
import { PREFIX_STATE_FORMAT } from './prefix-state-key.js';

export const TRAILER_MAGIC = Buffer.from('MRKVST01', 'latin1');
/** Header length (uint32) plus magic. */
const TRAILER_FIXED_BYTES = 4 + TRAILER_MAGIC.length;
/** Our header is a few hundred bytes; a larger claim is damage. */
const MAX_HEADER_BYTES = 4096;
/** llama.cpp's LLAMA_STATE_SEQ_MAGIC ('ggsq'), then its version and the token count: three uint32. */
const LLAMA_SEQ_MAGIC = 0x67677371;
const LLAMA_PREAMBLE_BYTES = 12;

export interface PrefixStateHeader {
  format: number;
  /** Model ID (sha256:...). */
  model: string;
  /** The engine build that computed the state (see engineBuildId). */
  build: string;
  /** prefixStateKey(model, build, tokens); also the file's name. */
  key: string;
  /** Tokens the state holds. */
  tokens: number;
  /** Length of llama.cpp's part, which starts the file. */
  stateBytes: number;
  /** SHA-256 (hex) of llama.cpp's part. */
  sha256: string;
}

export function encodeTrailer(header: PrefixStateHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  return Buffer.concat([json, length, TRAILER_MAGIC]);
}

/** The header of a file of `fileSize` bytes, or why it is not a prefix state file. */
export async function readTrailer(handle: FileHandle, fileSize: number): Promise<PrefixStateHeader | string> {
  if (fileSize < TRAILER_FIXED_BYTES + LLAMA_PREAMBLE_BYTES) return 'too short';
  const fixed = await readAt(handle, fileSize - TRAILER_FIXED_BYTES, TRAILER_FIXED_BYTES);
  if (!fixed.subarray(4).equals(TRAILER_MAGIC)) return 'no trailer (truncated, or not ours)';
  const headerBytes = fixed.readUInt32LE(0);
  if (headerBytes > MAX_HEADER_BYTES || headerBytes + TRAILER_FIXED_BYTES > fileSize) return 'header length out of bounds';
  const stateBytes = fileSize - TRAILER_FIXED_BYTES - headerBytes;
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readAt(handle, stateBytes, headerBytes)).toString('utf8'));
  } catch {
    return 'header is not JSON';
  }
  return checkHeader(parsed, stateBytes);
}

/** Field by field: a damaged header must not steer reads or the key check. */
export function checkHeader(value: unknown, stateBytes: number): PrefixStateHeader | string {
  if (typeof value !== 'object' || value === null) return 'header is not an object';
  const h = value as Record<string, unknown>;
  if (h.format !== PREFIX_STATE_FORMAT) return `format ${String(h.format)} is not ${PREFIX_STATE_FORMAT}`;
  for (const field of ['model', 'build', 'key', 'sha256'] as const) {
    if (typeof h[field] !== 'string' || h[field] === '') return `header has no ${field}`;
  }
  if (!/^[0-9a-f]{64}$/.test(h.key as string) || !/^[0-9a-f]{64}$/.test(h.sha256 as string)) return 'header key or checksum is not 64 hex digits';
  if (h.stateBytes !== stateBytes) return `header says ${String(h.stateBytes)} state bytes, the file holds ${stateBytes}`;
  if (!Number.isSafeInteger(h.tokens) || (h.tokens as number) < 1 || LLAMA_PREAMBLE_BYTES + (h.tokens as number) * 4 > stateBytes) return 'token count out of bounds';
  return h as unknown as PrefixStateHeader;
}

/** The tokens llama.cpp recorded at the start of its part, checked against the header's count. */
export async function readStateTokens(handle: FileHandle, header: PrefixStateHeader): Promise<Uint32Array | string> {
  const preamble = await readAt(handle, 0, LLAMA_PREAMBLE_BYTES);
  if (preamble.readUInt32LE(0) !== LLAMA_SEQ_MAGIC) return 'not a llama.cpp sequence state';
  if (preamble.readUInt32LE(8) !== header.tokens) return 'token count differs from the header';
  const bytes = await readAt(handle, LLAMA_PREAMBLE_BYTES, header.tokens * 4);
  const tokens = new Uint32Array(header.tokens);
  for (let i = 0; i < tokens.length; i++) tokens[i] = bytes.readUInt32LE(i * 4);
  return tokens;
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) throw new Error('the file ended early');
    done += bytesRead;
  }
  return buffer;
}
