/**
 * Docker's model tarball (what `docker model package` streams to `POST /models/load`, and what
 * export writes): entries `blobs/`, `blobs/sha256/<hex>` for every layer and the config, then
 * `manifest.json` holding the raw manifest bytes. Blobs stream between disk and tar in both
 * directions; a multi-gigabyte GGUF is never held in memory.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { AppError, toAppError } from '../errors.js';
import type { ModelStore, StagedBlob } from '../store/types.js';
import { assertSha256Digest, digestHex } from '../util/digest.js';
import { isDiskFull } from '../util/disk-full.js';
import { markDiskFull } from './disk-full.js';
import { parseImageManifest } from './artifact-manifest.js';
import { SUPPORTED_CONFIG_TYPES } from './media-types.js';

/** Registries cap manifests at 4 MiB; a bigger manifest.json is not a model's. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const MANIFEST_ENTRY = 'manifest.json';

type Pack = ReturnType<typeof tar.pack>;
type EntryHeader = Partial<tar.Header> & { name: string };

/** Resolves when the entry can take more bytes, or when the entry or the whole pack is gone. */
function writable(entry: ReturnType<Pack['entry']>, pack: Pack): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      entry.off('drain', done);
      entry.off('close', done);
      pack.off('close', done);
      resolve();
    };
    entry.on('drain', done);
    entry.on('close', done);
    pack.on('close', done);
  });
}

const aborted = () => new AppError('aborted', 'the tar stream was closed before the model was written');

/**
 * Adds one entry and resolves once tar-stream has taken all of it, honouring backpressure. `body`
 * is a buffer, or a function opening the bytes, so that no file is opened for a pack already gone.
 */
function writeEntry(pack: Pack, header: EntryHeader, body: Buffer | (() => AsyncIterable<Uint8Array>) | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const packClosed = () => pack.destroying || pack.destroyed;
    if (packClosed()) return reject(aborted());
    // A destroyed pack may never call an entry back: settle on its close instead.
    const onPackClose = () => reject(aborted());
    pack.once('close', onPackClose);
    const done = (err?: Error | null) => {
      pack.off('close', onPackClose);
      if (err) reject(err);
      else resolve();
    };
    if (body === undefined || Buffer.isBuffer(body)) {
      pack.entry(header, body ?? Buffer.alloc(0), done);
      return;
    }
    const entry = pack.entry(header, done);
    // A destroyed entry also reports its error through `done`; without a listener the event would crash the process.
    entry.on('error', () => {});
    const closed = () => entry.destroying || entry.destroyed || packClosed();
    (async () => {
      // Leaving this loop early (a throw) closes the source, and with it the blob's file.
      for await (const chunk of body()) {
        if (closed()) throw aborted();
        if (!entry.write(chunk) && !closed()) await writable(entry, pack);
      }
      if (closed()) throw aborted();
      entry.end(null);
    })().catch((err: unknown) => {
      entry.destroy(err as Error);
      done(err as Error);
    });
  });
}

/**
 * Streams model `id` as a tarball. Errors (a missing blob, a closed consumer) destroy the returned
 * stream with the error.
 */
export function exportModelTar(store: ModelStore, id: string): Readable {
  const pack = tar.pack();
  (async () => {
    const manifestBytes = await store.readManifest(id);
    const manifest = parseImageManifest(manifestBytes, `model ${id}`);
    await writeEntry(pack, { name: 'blobs', type: 'directory', mode: 0o755 }, undefined);
    await writeEntry(pack, { name: 'blobs/sha256', type: 'directory', mode: 0o755 }, undefined);
    const written = new Set<string>();
    for (const layer of manifest.layers) {
      if (written.has(layer.digest)) continue;
      written.add(layer.digest);
      const size = await store.blobSize(layer.digest);
      if (size === undefined) throw new AppError('not_found', `blob ${layer.digest} of model ${id} is missing from the store`);
      const body = () => createReadStream(store.blobPath(layer.digest), { highWaterMark: 1 << 20 });
      await writeEntry(pack, { name: `blobs/sha256/${digestHex(layer.digest)}`, size, mode: 0o666 }, body);
    }
    if (!written.has(manifest.config.digest)) {
      const config = await store.readBlob(manifest.config.digest);
      await writeEntry(pack, { name: `blobs/sha256/${digestHex(manifest.config.digest)}`, size: config.length, mode: 0o666 }, config);
    }
    await writeEntry(pack, { name: MANIFEST_ENTRY, size: manifestBytes.length, mode: 0o666 }, manifestBytes);
    pack.finalize();
  })().catch((err: unknown) => pack.destroy(err as Error));
  // A Node stream for the HTTP layer; destroying it ends the iteration, which destroys the pack.
  return Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
}

type EntryKind = { kind: 'manifest' } | { kind: 'blob'; digest: string } | { kind: 'ignore' };

/**
 * What an entry is, refusing names that could escape a directory if anyone ever extracted them
 * (absolute paths, `..` segments) and blob names that are not a sha256 digest.
 */
export function classifyTarEntry(rawName: string, type: string | null | undefined): EntryKind {
  const name = rawName.replace(/^(\.\/)+/, '');
  if (name.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(name) || name.split(/[\\/]/).includes('..')) {
    throw new AppError('bad_request', `tar entry "${rawName}" is not a safe relative path`);
  }
  const isDirectory = type === 'directory';
  if (name === MANIFEST_ENTRY && !isDirectory) return { kind: 'manifest' };
  if (!name.startsWith('blobs/') || isDirectory) return { kind: 'ignore' };
  const parts = name.slice('blobs/'.length).split('/');
  const digest = assertSha256Digest(parts.length === 2 ? `${parts[0]}:${parts[1]}` : name, `blob name in tar entry "${rawName}"`);
  if (type !== 'file' && type !== 'contiguous-file' && type != null) {
    throw new AppError('bad_request', `tar entry "${rawName}" is a ${type}, not a regular file`);
  }
  return { kind: 'blob', digest };
}

async function readManifestEntry(entry: AsyncIterable<Uint8Array>, declaredSize: number | undefined): Promise<Buffer> {
  if (declaredSize !== undefined && declaredSize > MAX_MANIFEST_BYTES) {
    throw new AppError('too_large', `manifest.json is ${declaredSize} bytes; a model manifest is at most ${MAX_MANIFEST_BYTES}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of entry) {
    total += chunk.byteLength;
    if (total > MAX_MANIFEST_BYTES) throw new AppError('too_large', `manifest.json is over ${MAX_MANIFEST_BYTES} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

export interface LoadModelTarOptions {
  /** Tags to give the loaded model (canonical references). Defaults to none. */
  tags?: string[];
}

/**
 * Reads a model tarball into the store: each blob entry is streamed in and verified against the
 * digest its name states, but only staged; once manifest.json (before or after the blobs) is read,
 * the blobs it names become blobs of the store and the rest are dropped, so a tarball cannot leave
 * extra files behind. The manifest is stored last, which fails when a blob it references was not
 * in the tar nor already in the store. On failure nothing staged is kept, and the source is
 * unpiped but not destroyed: the caller decides whether to drain or close it.
 */
export async function loadModelTar(store: ModelStore, source: Readable, options: LoadModelTarOptions = {}): Promise<{ id: string }> {
  const staged = new Map<string, StagedBlob>();
  try {
    const manifestBytes = await readTarEntries(store, source, staged);
    if (manifestBytes === undefined) {
      throw new AppError('bad_request', 'the tarball has no manifest.json entry, so it is not a model archive');
    }
    const manifest = parseImageManifest(manifestBytes, 'manifest.json of the tarball');
    if (!SUPPORTED_CONFIG_TYPES.includes(manifest.config.mediaType)) {
      throw new AppError(
        'unsupported',
        `config type "${manifest.config.mediaType}" is not supported by this version of model-runner; try upgrading`,
      );
    }
    const named = new Set([manifest.config.digest, ...manifest.layers.map((l) => l.digest)]);
    for (const [digest, blob] of staged) if (named.has(digest)) await blob.commit();
    const id = await store.writeModel(manifestBytes, options.tags ?? []);
    return { id };
  } finally {
    // Blobs the manifest does not name, and every blob of a load that failed; committed ones are not touched.
    for (const blob of staged.values()) await blob.discard();
  }
}

/** Stages every blob entry into `staged` (by digest) and returns manifest.json's bytes, if there was one. */
async function readTarEntries(store: ModelStore, source: Readable, staged: Map<string, StagedBlob>): Promise<Buffer | undefined> {
  const extract = tar.extract();
  const onSourceError = (err: Error) => extract.destroy(err);
  source.once('error', onSourceError);
  source.pipe(extract as unknown as NodeJS.WritableStream);
  let manifestBytes: Buffer | undefined;
  try {
    for await (const entry of extract) {
      const what = classifyTarEntry(entry.header.name, entry.header.type);
      if (what.kind === 'blob' && !staged.has(what.digest)) {
        try {
          staged.set(what.digest, await store.stageBlobFromStream(entry as AsyncIterable<Uint8Array>, { digest: what.digest, size: entry.header.size }));
        } catch (err) {
          // System errors (ENOSPC, EACCES) are the store's; any other failure is the tar stream's.
          if (isDiskFull(err)) throw markDiskFull(err, what.digest);
          if (err instanceof AppError || typeof (err as NodeJS.ErrnoException).syscall === 'string') throw toAppError(err);
          throw new AppError('bad_request', `tar entry "${entry.header.name}" could not be read: ${(err as Error).message}`, { cause: err });
        }
      } else if (what.kind === 'manifest') {
        manifestBytes = await readManifestEntry(entry as AsyncIterable<Uint8Array>, entry.header.size);
      } else {
        // Not ours (or a blob seen already): skip its bytes to reach the next header.
        for await (const _chunk of entry) void _chunk;
      }
    }
  } catch (err) {
    source.unpipe(extract as unknown as NodeJS.WritableStream);
    extract.destroy();
    // Anything not already an AppError came from the tar parser: the upload is malformed.
    if (err instanceof AppError) throw err;
    throw new AppError('bad_request', `not a readable model tarball: ${(err as Error).message}`, { cause: err });
  } finally {
    source.off('error', onSourceError);
  }
  return manifestBytes;
}
