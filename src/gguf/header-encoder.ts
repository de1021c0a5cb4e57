import { AppError } from '../errors.js';
import { GgufValueType } from './constants.js';
import type { GgufScalar, GgufWritableValue } from './metadata-values.js';

/**
 * Appends little-endian GGUF primitives to a growing list of buffers. The header of even a
 * 49k-token vocabulary is about a megabyte, so building it in memory is fine; tensor data
 * never goes through here.
 */
export class HeaderEncoder {
  private readonly parts: Buffer[] = [];
  private length = 0;

  get byteLength(): number {
    return this.length;
  }

  private push(buffer: Buffer): void {
    this.parts.push(buffer);
    this.length += buffer.length;
  }

  u32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value >>> 0);
    this.push(b);
  }

  u64(value: number | bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(value));
    this.push(b);
  }

  string(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }

  bytes(value: Uint8Array): void {
    this.push(Buffer.from(value));
  }

  value(type: GgufValueType, value: GgufScalar | GgufWritableValue): void {
    const b8 = () => Buffer.alloc(8);
    switch (type) {
      case GgufValueType.UINT8: return this.push(Buffer.of(Number(value) & 0xff));
      case GgufValueType.INT8: { const b = Buffer.alloc(1); b.writeInt8(Number(value)); return this.push(b); }
      case GgufValueType.UINT16: { const b = Buffer.alloc(2); b.writeUInt16LE(Number(value)); return this.push(b); }
      case GgufValueType.INT16: { const b = Buffer.alloc(2); b.writeInt16LE(Number(value)); return this.push(b); }
      case GgufValueType.UINT32: { const b = Buffer.alloc(4); b.writeUInt32LE(Number(value)); return this.push(b); }
      case GgufValueType.INT32: { const b = Buffer.alloc(4); b.writeInt32LE(Number(value)); return this.push(b); }
      case GgufValueType.FLOAT32: { const b = Buffer.alloc(4); b.writeFloatLE(Number(value)); return this.push(b); }
      case GgufValueType.BOOL: return this.push(Buffer.of(value ? 1 : 0));
      case GgufValueType.STRING: return this.string(String(value));
      case GgufValueType.UINT64: { const b = b8(); b.writeBigUInt64LE(BigInt(value as number | bigint)); return this.push(b); }
      case GgufValueType.INT64: { const b = b8(); b.writeBigInt64LE(BigInt(value as number | bigint)); return this.push(b); }
      case GgufValueType.FLOAT64: { const b = b8(); b.writeDoubleLE(Number(value)); return this.push(b); }
      case GgufValueType.ARRAY: {
        const array = value as Extract<GgufWritableValue, { type: GgufValueType.ARRAY }>;
        this.u32(array.itemType);
        this.u64(array.value.length);
        for (const item of array.value) this.value(array.itemType, item);
        return;
      }
      default:
        throw new AppError('internal', `cannot encode GGUF value type ${String(type)}`);
    }
  }

  /** A typed value: the value itself (or its wrapper's `value`) under the wrapper's type. */
  typed(wrapper: GgufWritableValue): void {
    this.u32(wrapper.type);
    this.value(wrapper.type, wrapper.type === GgufValueType.ARRAY ? wrapper : wrapper.value);
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}
