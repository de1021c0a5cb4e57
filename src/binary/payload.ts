/**
 * The runtime files' bytes, appended to the end of the binary after Node's single-executable blob
 * was injected. They do not travel as that blob's assets because postject, which injects the
 * blob, runs out of its WebAssembly memory past a few hundred MB and the CUDA backend alone is
 * over 500 MB; the ELF loader ignores bytes after the last segment, and so does node. The files
 * lie back to back in manifest order, ending at the end of the file, so each one's place follows
 * from the sizes in the manifest. Every byte read from here is checked against the manifest's
 * hash before it is used.
 */
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { RuntimeFile, RuntimeManifest } from './manifest.js';

export interface Payload {
  /** The bytes of one manifest file. */
  open(file: RuntimeFile): Readable;
}

export function payloadSize(manifest: RuntimeManifest): number {
  return manifest.files.reduce((sum, file) => sum + file.size, 0);
}

/** The payload at the end of `binary`; throws when the file is too short to hold it. */
export function openPayload(binary: string, manifest: RuntimeManifest): Payload {
  const total = payloadSize(manifest);
  const { size } = statSync(binary);
  if (size < total) throw new Error(`${binary} is ${size} bytes, too short for its ${total}-byte payload: the file was cut or stripped; build it again`);
  const offsets = new Map<string, number>();
  let offset = size - total;
  for (const file of manifest.files) {
    offsets.set(file.path, offset);
    offset += file.size;
  }
  return {
    open(file) {
      const start = offsets.get(file.path);
      if (start === undefined) throw new Error(`${file.path} is not in the manifest`);
      // createReadStream's end is inclusive, so an empty file cannot be a range.
      if (file.size === 0) return Readable.from([]);
      return createReadStream(binary, { start, end: start + file.size - 1, highWaterMark: 1 << 20 });
    },
  };
}
