/**
 * One local file becomes one raw layer, as Docker's packager (`partial.NewLayer`) makes it: the
 * bytes uncompressed (so digest == diffID), the base name and a tar-like metadata record in
 * annotations so that unpackers can name the file.
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.js';
import type { Descriptor } from '../registry/types.js';
import type { ModelStore } from '../store/types.js';
import { formatRfc3339, goJsonStringify } from './go-json.js';
import { ANNOTATION_FILE_METADATA, ANNOTATION_FILEPATH, ANNOTATION_MEDIATYPE_UNTESTED } from './media-types.js';

export interface FileLayerOptions {
  /**
   * Modification time written into the metadata annotation instead of the file's own, so that the
   * same files always give the same manifest. Defaults to undefined (the file's mtime).
   */
  mtime?: Date;
}

async function statFile(file: string) {
  try {
    const st = await fs.stat(file, { bigint: true });
    if (!st.isFile()) throw new AppError('bad_request', `${file} is not a regular file`);
    return st;
  } catch (err) {
    if (err instanceof AppError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new AppError('bad_request', `cannot read ${file}: ${why}`, { cause: err });
  }
}

/**
 * Streams `file` into the store (never holding it in memory) and returns its layer descriptor with
 * Docker's annotations, in the key order Go's map encoding gives them.
 */
export async function addFileLayer(store: ModelStore, file: string, mediaType: string, options: FileLayerOptions = {}): Promise<Descriptor> {
  const st = await statFile(file);
  const blob = await store.writeBlobFromStream(createReadStream(file, { highWaterMark: 1 << 20 }));
  if (blob.size !== Number(st.size)) {
    throw new AppError('conflict', `${file} changed while it was being packaged (${st.size} bytes at start, ${blob.size} read)`);
  }
  const mtime =
    options.mtime !== undefined
      ? formatRfc3339(options.mtime)
      : formatRfc3339(new Date(Number(st.mtimeNs / 1_000_000n)), Number(st.mtimeNs % 1_000_000n));
  return fileLayerDescriptor({ digest: blob.digest, size: blob.size, name: path.basename(file), mode: Number(st.mode) & 0o777, mtime }, mediaType);
}

/** A blob that stands for a file in a layer (one just copied, or one a client uploaded). */
export interface FileBlob {
  digest: string;
  size: number;
  /** The file's base name, as unpackers will name it. */
  name: string;
  /** Permission bits. */
  mode: number;
  /** Modification time, already in RFC 3339. */
  mtime: string;
}

/** The layer descriptor of a file with Docker's annotations, in the key order Go's map encoding gives them. */
export function fileLayerDescriptor(file: FileBlob, mediaType: string): Descriptor {
  // Field order of Go's types.FileMetadata; uid/gid are 0 and typeflag is 0 (regular file) as Docker writes them.
  const metadata = { name: file.name, mode: file.mode, uid: 0, gid: 0, size: file.size, mtime: file.mtime, typeflag: 0 };
  return {
    mediaType,
    size: file.size,
    digest: file.digest,
    annotations: {
      [ANNOTATION_MEDIATYPE_UNTESTED]: 'false',
      [ANNOTATION_FILE_METADATA]: goJsonStringify(metadata),
      [ANNOTATION_FILEPATH]: file.name,
    },
  };
}
