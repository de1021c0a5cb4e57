import type { FileHandle } from 'node:fs/promises';

/** Default size of one positional read: a header is parsed in a few of them. */
const READ_BYTES = 1 << 16;

/**
 * Sequential little-endian reads over a file through a small window buffer, with every read
 * checked against the file size first: a hostile length can never make us allocate or read
 * past the end. `fail` turns a problem into the caller's error.
 */
export class ByteReader {
  private buffer: Buffer = Buffer.alloc(READ_BYTES);
  private bufferStart = 0;
  private bufferLength = 0;
  position = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly fileSize: number,
    private readonly fail: (what: string) => never,
  ) {}

  get remaining(): number {
    return this.fileSize - this.position;
  }

  /** Makes `n` bytes from the current position available in the window; `what` names them in errors. */
  private async ensure(n: number, what: string): Promise<number> {
    if (n > this.remaining) this.fail(`${what} at byte ${this.position} runs past the end of the file (${this.fileSize} bytes)`);
    const start = this.position - this.bufferStart;
    if (start >= 0 && start + n <= this.bufferLength) return start;
    const want = Math.min(Math.max(n, READ_BYTES), this.remaining);
    if (want > this.buffer.length) this.buffer = Buffer.alloc(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.handle.read(this.buffer, got, want - got, this.position + got);
      if (bytesRead === 0) this.fail(`the file ended early at byte ${this.position + got} while reading ${what} (it shrank while being read)`);
      got += bytesRead;
    }
    this.bufferStart = this.position;
    this.bufferLength = got;
    return 0;
  }

  /** The next `n` bytes; the view is only valid until the next read (the window is reused). */
  async bytes(n: number, what: string): Promise<Buffer> {
    const at = await this.ensure(n, what);
    this.position += n;
    return this.buffer.subarray(at, at + n);
  }

  /**
   * The next string (u64 length, then that many bytes) when it lies whole in the window, within
   * `maxBytes` and the file; else undefined, with nothing consumed, for the checked path to read
   * (and to name what is wrong). Why: a vocabulary is ~100k strings, and the checked path's await
   * and error label per string made a 49k-token header cost ~60 ms to parse.
   */
  bufferedString(maxBytes: number): string | undefined {
    const at = this.position - this.bufferStart;
    const length = this.bufferedStringLength(at, maxBytes);
    if (length === undefined || at + 8 + length > this.bufferLength) return undefined;
    this.position += 8 + length;
    return this.buffer.toString('utf8', at + 8, at + 8 + length);
  }

  /** Like bufferedString, but only steps past the string; false when the checked path must. */
  skipBufferedString(maxBytes: number): boolean {
    const length = this.bufferedStringLength(this.position - this.bufferStart, maxBytes);
    if (length === undefined) return false;
    this.position += 8 + length;
    return true;
  }

  /** The length of the string at window offset `at` when its length field is in the window and the string within `maxBytes` and the file. */
  private bufferedStringLength(at: number, maxBytes: number): number | undefined {
    if (at < 0 || at + 8 > this.bufferLength || this.buffer.readUInt32LE(at + 4) !== 0) return undefined;
    const length = this.buffer.readUInt32LE(at);
    return length > maxBytes || 8 + length > this.remaining ? undefined : length;
  }

  /** Advances without reading; the bound check still applies. */
  skip(n: number, what: string): void {
    if (n > this.remaining) this.fail(`${what} at byte ${this.position} runs past the end of the file (${this.fileSize} bytes)`);
    this.position += n;
  }

  async u8(what: string): Promise<number> {
    return (await this.bytes(1, what)).readUInt8(0);
  }
  async i8(what: string): Promise<number> {
    return (await this.bytes(1, what)).readInt8(0);
  }
  async u16(what: string): Promise<number> {
    return (await this.bytes(2, what)).readUInt16LE(0);
  }
  async i16(what: string): Promise<number> {
    return (await this.bytes(2, what)).readInt16LE(0);
  }
  async u32(what: string): Promise<number> {
    return (await this.bytes(4, what)).readUInt32LE(0);
  }
  async i32(what: string): Promise<number> {
    return (await this.bytes(4, what)).readInt32LE(0);
  }
  async f32(what: string): Promise<number> {
    return (await this.bytes(4, what)).readFloatLE(0);
  }
  async f64(what: string): Promise<number> {
    return (await this.bytes(8, what)).readDoubleLE(0);
  }
  async u64(what: string): Promise<bigint> {
    return (await this.bytes(8, what)).readBigUInt64LE(0);
  }
  async i64(what: string): Promise<bigint> {
    return (await this.bytes(8, what)).readBigInt64LE(0);
  }
}
