/**
 * A multipart/form-data body with text fields and one file, streamed from disk with an exact
 * Content-Length (so a multi-gigabyte GGUF is never held in memory and the server can refuse an
 * oversized upload before reading it).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';

export interface MultipartFile {
  /** The form field name. */
  field: string;
  /** Path of the file on disk. */
  path: string;
  /** Its size in bytes (from stat), for Content-Length. */
  size: number;
}

export interface MultipartBody {
  stream: Readable;
  contentType: string;
  length: number;
}

/** A quoted-string for Content-Disposition; quotes and line breaks cannot end the header early. */
function quoted(value: string): string {
  return `"${value.replace(/["\r\n\\]/g, (c) => encodeURIComponent(c))}"`;
}

export function multipartBody(fields: Record<string, string | undefined>, file: MultipartFile): MultipartBody {
  const boundary = `----model-runner-${randomBytes(12).toString('hex')}`;
  let head = '';
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    head += `--${boundary}\r\nContent-Disposition: form-data; name=${quoted(name)}\r\n\r\n${value}\r\n`;
  }
  head +=
    `--${boundary}\r\nContent-Disposition: form-data; name=${quoted(file.field)}; filename=${quoted(path.basename(file.path))}\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n';
  const headBytes = Buffer.from(head);
  const tailBytes = Buffer.from(`\r\n--${boundary}--\r\n`);
  async function* parts(): AsyncGenerator<Buffer> {
    yield headBytes;
    for await (const chunk of createReadStream(file.path)) yield chunk as Buffer;
    yield tailBytes;
  }
  return {
    stream: Readable.from(parts(), { objectMode: false }),
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: headBytes.length + file.size + tailBytes.length,
  };
}
