import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import tar from 'tar-stream';
import { AppError } from '../../src/errors.js';
import type { ModelStore } from '../../src/store/index.js';
import { sha256Digest } from '../../src/util/digest.js';
import { exportModelTar, loadModelTar } from '../../src/models/tarball.js';
import { storeHandBuiltModel, tempStore } from './artifact-fixtures.js';
import { waitUntil } from '../e2e/support/wait.js';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A tar made of exactly these entries, in this order. */
async function makeTar(entries: Array<{ name: string; body: Buffer | string }>): Promise<Buffer> {
  const pack = tar.pack();
  const done = collect(Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false }));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => pack.entry({ name: e.name }, Buffer.from(e.body), (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  return done;
}

async function entryNames(tarBytes: Buffer): Promise<string[]> {
  const extract = tar.extract();
  const names: string[] = [];
  const reading = (async () => {
    for await (const entry of extract) {
      names.push(entry.header.name);
      for await (const _ of entry) void _;
    }
  })();
  Readable.from([tarBytes]).pipe(extract as unknown as NodeJS.WritableStream);
  await reading;
  return names;
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the promise to reject');
}

async function blobFiles(root: string): Promise<string[]> {
  return (await fs.readdir(path.join(root, 'blobs', 'sha256'))).filter((f) => /^[a-f0-9]{64}$/.test(f));
}

describe('model tarballs', () => {
  let source: Awaited<ReturnType<typeof tempStore>>;
  let model: Awaited<ReturnType<typeof storeHandBuiltModel>>;
  const weights = Buffer.alloc(300_000, 7);
  const license = Buffer.from('MIT license text\n');

  before(async () => {
    source = await tempStore('mr-tar-src');
    model = await storeHandBuiltModel(source.store, [
      { bytes: weights },
      { bytes: license, mediaType: 'application/vnd.docker.ai.license' },
    ]);
  });
  after(async () => source.cleanup());

  async function withTarget(fn: (store: ModelStore, root: string) => Promise<void>): Promise<void> {
    const target = await tempStore('mr-tar-dst');
    try {
      await fn(target.store, target.root);
    } finally {
      await target.cleanup();
    }
  }

  test('export writes the blobs directory, every blob by digest and then manifest.json', async () => {
    const names = await entryNames(await collect(exportModelTar(source.store, model.id)));
    const hex = (d: string) => `blobs/sha256/${d.slice('sha256:'.length)}`;
    assert.deepEqual(names, ['blobs', 'blobs/sha256', ...model.layers.map((l) => hex(l.digest)), hex(model.configDigest), 'manifest.json']);
  });

  test('exporting and loading into another store keeps the model ID and byte-identical blobs', async () => {
    await withTarget(async (target) => {
      const { id } = await loadModelTar(target, exportModelTar(source.store, model.id), { tags: ['docker.io/ai/copy:latest'] });
      assert.equal(id, model.id);
      assert.deepEqual(await target.readManifest(id), await source.store.readManifest(model.id));
      for (const digest of [...model.layers.map((l) => l.digest), model.configDigest]) {
        assert.deepEqual(await target.readBlob(digest), await source.store.readBlob(digest));
      }
      assert.equal((await target.findByTag('docker.io/ai/copy:latest'))?.id, model.id);
    });
  });

  test('manifest.json may come before the blobs', async () => {
    const manifest = await source.store.readManifest(model.id);
    const entries = [
      { name: 'manifest.json', body: manifest },
      { name: `blobs/sha256/${model.configDigest.slice(7)}`, body: await source.store.readBlob(model.configDigest) },
      ...model.layers.map((l) => ({ name: `blobs/sha256/${l.digest.slice(7)}`, body: l.size === weights.length ? weights : license })),
    ];
    await withTarget(async (target) => {
      const { id } = await loadModelTar(target, Readable.from([await makeTar(entries)]));
      assert.equal(id, model.id);
    });
  });

  /** The model's own entries (blobs then manifest.json), as export would write them, plus `extra` blob entries first. */
  async function modelEntries(extra: Buffer[] = []): Promise<Array<{ name: string; body: Buffer }>> {
    return [
      ...extra.map((body) => ({ name: `blobs/sha256/${sha256Digest(body).slice(7)}`, body })),
      ...model.layers.map((l) => ({ name: `blobs/sha256/${l.digest.slice(7)}`, body: l.size === weights.length ? weights : license })),
      { name: `blobs/sha256/${model.configDigest.slice(7)}`, body: await source.store.readBlob(model.configDigest) },
      { name: 'manifest.json', body: await source.store.readManifest(model.id) },
    ];
  }

  test('blobs in the tar that its manifest does not name are not left in the store, nor are their temp files', async () => {
    const extras = [Buffer.from('a stowaway blob'), Buffer.alloc(100_000, 9)];
    await withTarget(async (target, root) => {
      const { id } = await loadModelTar(target, Readable.from([await makeTar(await modelEntries(extras))]));
      assert.equal(id, model.id);
      const named = [...model.layers.map((l) => l.digest), model.configDigest].map((d) => d.slice(7)).sort();
      assert.deepEqual((await blobFiles(root)).sort(), named);
      assert.deepEqual(await fs.readdir(path.join(root, 'blobs', 'sha256')).then((names) => names.filter((n) => !/^[a-f0-9]{64}$/.test(n))), []);
    });
  });

  test('a tar whose load fails after its blobs were read leaves no blob behind', async () => {
    const manifest = JSON.parse((await source.store.readManifest(model.id)).toString('utf8')) as { config: { mediaType: string } };
    manifest.config.mediaType = 'application/vnd.example.future.config+json';
    const entries = (await modelEntries([Buffer.from('extra')])).map((e) => (e.name === 'manifest.json' ? { ...e, body: Buffer.from(JSON.stringify(manifest)) } : e));
    await withTarget(async (target, root) => {
      const err = await rejection(loadModelTar(target, Readable.from([await makeTar(entries)])));
      assert.equal(err.code, 'unsupported');
      assert.deepEqual(await fs.readdir(path.join(root, 'blobs', 'sha256')), []);
    });
  });

  test('an entry name that climbs out of blobs/ is refused and nothing is stored', async () => {
    const escape = Buffer.from('not a blob');
    for (const name of [`blobs/sha256/../../escape-${process.pid}`, '/tmp/absolute-entry']) {
      await withTarget(async (target, root) => {
        const bytes = await makeTar([
          { name, body: escape },
          { name: 'manifest.json', body: await source.store.readManifest(model.id) },
        ]);
        const err = await rejection(loadModelTar(target, Readable.from([bytes])));
        assert.equal(err.code, 'bad_request');
        assert.match(err.message, /not a safe relative path/);
        assert.deepEqual(await target.listModels(), []);
        assert.deepEqual(await blobFiles(root), []);
        await assert.rejects(fs.access(path.join(root, '..', `escape-${process.pid}`)));
      });
    }
  });

  test('a blob whose bytes do not hash to its entry name is refused with digest_mismatch', async () => {
    const claimed = sha256Digest('the real content');
    const bytes = await makeTar([{ name: `blobs/sha256/${claimed.slice(7)}`, body: 'forged content' }]);
    await withTarget(async (target, root) => {
      const err = await rejection(loadModelTar(target, Readable.from([bytes])));
      assert.equal(err.code, 'digest_mismatch');
      assert.deepEqual(await blobFiles(root), []);
    });
  });

  test('a blob entry whose name is not a sha256 digest is refused', async () => {
    const bytes = await makeTar([{ name: 'blobs/sha256/not-hex', body: 'x' }]);
    await withTarget(async (target) => {
      const err = await rejection(loadModelTar(target, Readable.from([bytes])));
      assert.equal(err.code, 'bad_request');
      assert.match(err.message, /blobs\/sha256\/not-hex/);
    });
  });

  test('a tar without manifest.json is refused as not a model archive', async () => {
    const bytes = await makeTar([{ name: `blobs/sha256/${sha256Digest('x').slice(7)}`, body: 'x' }, { name: 'README', body: 'hello' }]);
    await withTarget(async (target) => {
      const err = await rejection(loadModelTar(target, Readable.from([bytes])));
      assert.equal(err.code, 'bad_request');
      assert.match(err.message, /no manifest\.json/);
      assert.deepEqual(await target.listModels(), []);
    });
  });

  test('a manifest whose blobs are neither in the tar nor in the store is not stored', async () => {
    const bytes = await makeTar([{ name: 'manifest.json', body: await source.store.readManifest(model.id) }]);
    await withTarget(async (target) => {
      await rejection(loadModelTar(target, Readable.from([bytes])));
      assert.deepEqual(await target.listModels(), []);
    });
  });

  test('a truncated tarball is refused as malformed', async () => {
    const whole = await collect(exportModelTar(source.store, model.id));
    await withTarget(async (target) => {
      const err = await rejection(loadModelTar(target, Readable.from([whole.subarray(0, 100_000)])));
      assert.equal(err.code, 'bad_request');
      assert.deepEqual(await target.listModels(), []);
    });
  });

  test('exporting a model that is not in the store fails the stream', async () => {
    const missing = sha256Digest('no such model');
    const err = await rejection(collect(exportModelTar(source.store, missing)));
    assert.equal(err.code, 'not_found', err.message);
  });

  test('a consumer that stops reading early leaves no blob file open', { skip: process.platform !== 'linux' && 'needs /proc/self/fd' }, async () => {
    const big = await storeHandBuiltModel(source.store, [{ bytes: Buffer.alloc(8_000_000, 3) }]);
    const blobFile = source.store.blobPath(big.layers[0]!.digest);
    const openFiles = async () => {
      const links = await Promise.all((await fs.readdir('/proc/self/fd')).map((fd) => fs.readlink(`/proc/self/fd/${fd}`).catch(() => '')));
      return links.filter((l) => l === blobFile).length;
    };
    for (const chunksRead of [1, 4, 40]) {
      const stream = exportModelTar(source.store, big.id);
      let n = 0;
      for await (const _ of stream) if (++n >= chunksRead) break;
      // Closing is asynchronous and says nothing when done: wait for the descriptor to go.
      await waitUntil(`no open blob file after reading ${chunksRead} chunks`, async () => (await openFiles()) === 0);
    }
  });
});
