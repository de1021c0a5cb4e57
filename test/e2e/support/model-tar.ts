/** Model tarballs for POST /models/load, as `docker model save` lays them out, built from files on disk. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { makeTempDir } from '../../support/server-harness.js';
import { packageIntoStore, sha256OfBytes } from './fixtures.js';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A tar made of exactly these entries, in this order. */
export async function makeTar(entries: Array<{ name: string; body: Buffer }>): Promise<Buffer> {
  const pack = tar.pack();
  const done = collect(Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false }));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => pack.entry({ name: e.name }, e.body, (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  return done;
}

/** A tarball whose first entry is `blob` under its digest (what a load stages first), then a manifest naming it. */
export async function tarWithBlob(blob: Buffer): Promise<{ tar: Buffer; digest: string }> {
  const digest = sha256OfBytes(blob);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, layers: [{ digest, size: blob.length }] }));
  return { tar: await makeTar([{ name: `blobs/sha256/${digest.slice('sha256:'.length)}`, body: blob }, { name: 'manifest.json', body: manifest }]), digest };
}

/** The tarball of `ggufPath` packaged (by the CLI, into a scratch store) as a model; returns it with the model's ID. */
export async function tarOfPackagedGguf(ggufPath: string): Promise<{ tar: Buffer; id: string }> {
  const store = await makeTempDir('mr-e2e-tar-store-');
  try {
    await packageIntoStore(ggufPath, store, 'ai/packaged:latest');
    const [entry] = (JSON.parse(await fs.readFile(path.join(store, 'models.json'), 'utf8')) as { models: Array<{ id: string; files: string[] }> }).models;
    const hex = (digest: string) => digest.slice('sha256:'.length);
    const entries = [];
    for (const digest of entry!.files) entries.push({ name: `blobs/sha256/${hex(digest)}`, body: await fs.readFile(path.join(store, 'blobs', 'sha256', hex(digest))) });
    entries.push({ name: 'manifest.json', body: await fs.readFile(path.join(store, 'manifests', 'sha256', hex(entry!.id))) });
    return { tar: await makeTar(entries), id: entry!.id };
  } finally {
    await fs.rm(store, { recursive: true, force: true });
  }
}
