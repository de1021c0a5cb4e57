import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { generateModel } from '../../src/gguf/index.js';
import { createSilentLogger } from '../../src/log.js';
import { Catalog, type ProgressEvent, WAITING_FOR_PULL_SLOT } from '../../src/models/index.js';
import { OCI_MANIFEST } from '../../src/models/media-types.js';
import { packageModel } from '../../src/models/package.js';
import { parseReference, RegistryClient } from '../../src/registry/index.js';
import { sha256Digest } from '../../src/util/digest.js';
import { makeTempDir, openTempStore, type TempStore } from '../support/catalog-fixtures.js';
import { pushArtifact, startRegistry, type TestRegistry } from '../support/registry-harness.js';

describe('pushing and pulling models through the catalog against a real registry', () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let source: TempStore;
  let workDir: string;
  let modelRef: string;
  let pushedId: string;
  let ggufDigest: string;
  const stores: TempStore[] = [];

  const newCatalog = async (options: { onPullBytes?: (n: number) => void } = {}) => {
    const temp = await openTempStore('pull');
    stores.push(temp);
    return { temp, catalog: new Catalog({ store: temp.store, registry: client, logger: createSilentLogger(), ...options }) };
  };

  before(async () => {
    registry = await startRegistry('token');
    client = new RegistryClient({ ...registry.credentials, retries: 1, retryDelayMs: 10 });
    workDir = await makeTempDir('pull-src');
    const gguf = await generateModel({ path: path.join(workDir, 'tiny.gguf'), preset: 'tiny', type: 'q8_0', seed: 7 });
    const license = path.join(workDir, 'LICENSE');
    await fs.writeFile(license, 'Apache-2.0, for tests\n');
    source = await openTempStore('push');
    const packaged = await packageModel(source.store, { ggufPath: gguf.path, licensePaths: [license], contextSize: 256 });
    ggufDigest = packaged.layers[0]!.digest;
    modelRef = registry.reference('ai/tiny', 'v1');
    pushedId = await source.store.writeModel(packaged.manifestBytes, [parseReference(modelRef).canonical]);
  });

  after(async () => {
    client?.dispose();
    for (const temp of stores) await temp.dispose();
    await source?.dispose();
    await registry?.stop();
    if (workDir) await fs.rm(workDir, { recursive: true, force: true });
  });

  test('a packaged model pushed through the catalog reports upload progress and ends in success', async () => {
    const catalog = new Catalog({ store: source.store, registry: client, logger: createSilentLogger() });
    const events: ProgressEvent[] = [];
    await catalog.push(modelRef, { onEvent: (e) => events.push(e) });
    assert.deepEqual(events.at(-1), { type: 'success', message: 'Model pushed successfully', mode: 'push' });
    const progress = events.filter((e) => e.type === 'progress');
    assert.ok(progress.length >= 2, 'one completion per layer at least');
    assert.ok(progress.every((e) => e.mode === 'push' && /^Uploaded: \d+\.\d\d MB$/.test(e.message)));
  });

  test('pulling it into a second store streams progress whose layer sizes add up to the total, then success', async () => {
    let pulledBytes = 0;
    const { temp, catalog } = await newCatalog({ onPullBytes: (n) => (pulledBytes += n) });
    const events: ProgressEvent[] = [];
    const result = await catalog.pull(modelRef, { onEvent: (e) => events.push(e) });
    assert.deepEqual(result, { id: pushedId, cached: false });

    assert.deepEqual(events.at(-1), { type: 'success', message: 'Model pulled successfully', mode: 'pull' });
    const progress = events.filter((e) => e.type === 'progress');
    const layers = new Map(progress.map((e) => [e.layer!.id, e.layer!.size]));
    const sizes = [...layers.values()].reduce((a, b) => a + b, 0);
    assert.equal(layers.size, 2, 'the GGUF and the license');
    assert.ok(progress.every((e) => e.total === sizes && e.mode === 'pull' && /^Downloaded: /.test(e.message)));
    for (const id of layers.keys()) {
      const last = progress.filter((e) => e.layer!.id === id).at(-1)!;
      assert.equal(last.layer!.current, last.layer!.size, `layer ${id} completes`);
    }
    assert.equal(pulledBytes, sizes);

    const [model] = await catalog.list();
    assert.equal(model!.id, pushedId);
    assert.deepEqual(model!.tags, [parseReference(modelRef).canonical]);
    assert.equal(model!.config.format, 'gguf');
    assert.equal(model!.config.architecture, 'llama');
    assert.equal(model!.config.context_size, 256);
    assert.ok(model!.created > 1_600_000_000);

    const spec = await catalog.resolveForInference('tiny:v1', 'completion');
    assert.equal(spec.id, pushedId);
    assert.equal(spec.name, 'tiny:v1');
    assert.equal(spec.packagedContextSize, 256);
    assert.equal(spec.trainContextSize, 512);
    assert.deepEqual(spec.settings, {});
    assert.equal(sha256Digest(await fs.readFile(spec.modelPath)), ggufDigest, 'the bundle holds the pulled GGUF');
    assert.ok(spec.modelPath.startsWith(temp.store.root));

    const remote = await catalog.getRemote(modelRef);
    assert.deepEqual(remote, { ...model!, tags: [] });
  });

  test('two concurrent pulls of one model share one download: the CDN sees one GET per blob', async () => {
    const { temp, catalog } = await newCatalog();
    const first: ProgressEvent[] = [];
    const second: ProgressEvent[] = [];
    registry.cdn!.resetStats();
    const results = await Promise.all([
      catalog.pull(modelRef, { onEvent: (e) => first.push(e) }),
      catalog.pull(modelRef, { onEvent: (e) => second.push(e) }),
    ]);
    assert.deepEqual(results[0], results[1]);
    const blobs = (await temp.store.getModel(pushedId))!.files.length;
    assert.equal(registry.cdn!.stats().requests, blobs);
    assert.equal(first.at(-1)?.message, 'Model pulled successfully');
    assert.equal(second.at(-1)?.message, 'Model pulled successfully');
    assert.deepEqual(first, second);
  });

  test('pulling a model that is already stored only retags it and says Using cached model', async () => {
    const { temp, catalog } = await newCatalog();
    await catalog.pull(modelRef);
    registry.cdn!.resetStats();
    const events: ProgressEvent[] = [];
    const result = await catalog.pull(modelRef, { onEvent: (e) => events.push(e) });
    assert.equal(result.cached, true);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, 'success');
    assert.match(events[0]!.message, /^Using cached model: \d+(\.\d+)?[KMG]?i?B$/);
    assert.equal(registry.cdn!.stats().requests, 0);
    assert.equal((await temp.store.listModels()).length, 1);
  });

  test('an unsupported config type is refused as unsupported before any blob is downloaded', async () => {
    const ref = parseReference(registry.reference('ai/future', 'latest'));
    const config = Buffer.from('{"future":true}');
    const layer = Buffer.from('future weights');
    const configDescriptor = { mediaType: 'application/vnd.example.model.config.v9+json', digest: sha256Digest(config), size: config.length };
    const layerDescriptor = { mediaType: 'application/vnd.docker.ai.gguf.v3', digest: sha256Digest(layer), size: layer.length };
    await client.pushBlob(ref, configDescriptor, () => Readable.from([config]));
    await client.pushBlob(ref, layerDescriptor, () => Readable.from([layer]));
    await client.pushManifest(ref, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDescriptor, layers: [layerDescriptor] })), OCI_MANIFEST);

    const { temp, catalog } = await newCatalog();
    registry.cdn!.resetStats();
    await assert.rejects(catalog.pull(ref.canonical), (err: AppError) => {
      assert.equal(err.code, 'unsupported');
      assert.match(err.message, /vnd\.example\.model\.config\.v9\+json/);
      return true;
    });
    assert.equal(registry.cdn!.stats().requests, 0);
    assert.deepEqual(await temp.store.listModels(), []);
    assert.equal(await temp.store.hasBlob(layerDescriptor.digest), false);
  });

  test('a blob corrupted in the registry fails the pull with digest_mismatch and leaves no model', async () => {
    const layer = Buffer.alloc(64 * 1024, 'a');
    const pushed = await pushArtifact(registry, 'ai/corrupt', 'latest', { layers: [layer] });
    const stored = registry.blobDataPath(pushed.layerDigests[0]!);
    await fs.writeFile(stored, Buffer.alloc(layer.length, 'b'));

    const { temp, catalog } = await newCatalog();
    await assert.rejects(catalog.pull(registry.reference('ai/corrupt')), (err: AppError) => err.code === 'digest_mismatch');
    assert.deepEqual(await temp.store.listModels(), []);
    assert.equal(await temp.store.hasBlob(pushed.layerDigests[0]!), false);
    await assert.rejects(fs.stat(temp.store.partialPath(pushed.layerDigests[0]!)), { code: 'ENOENT' });
  });

  test('one requester of a shared pull going away does not stop it for the other; the last one leaving does', async () => {
    const layer = Buffer.alloc(256 * 1024, 'c');
    const pushed = await pushArtifact(registry, 'ai/slow', 'latest', { layers: [layer] });
    const ref = registry.reference('ai/slow');
    const layerHex = pushed.layerDigests[0]!.slice('sha256:'.length);
    // The layer stops after its first bytes until released: the pulls cannot finish before the requesters leave.
    const hold = registry.cdn!.hold({ afterBytes: 1000, match: ({ path: p }) => p.includes(layerHex) });
    try {
      const { temp, catalog } = await newCatalog();
      const leaving = new AbortController();
      const left = catalog.pull(ref, { signal: leaving.signal });
      const stays = catalog.pull(ref);
      await hold.reached(1);
      leaving.abort();
      await assert.rejects(left, (err: AppError) => err.code === 'aborted');
      hold.release();
      assert.equal((await stays).cached, false);
      assert.equal((await temp.store.listModels()).length, 1);

      const again = registry.cdn!.hold({ afterBytes: 1000, match: ({ path: p }) => p.includes(layerHex) });
      const alone = await newCatalog();
      const cancel = new AbortController();
      const only = alone.catalog.pull(ref, { signal: cancel.signal });
      await again.reached(1);
      cancel.abort();
      await assert.rejects(only, (err: AppError) => err.code === 'aborted');
      again.release();
      // A pull started afterwards is a fresh one and completes: the cancelled one left no stuck state.
      assert.equal((await alone.catalog.pull(ref)).cached, false);
    } finally {
      hold.release();
    }
  });

  test('with one pull slot a second model says it waits, and starts only once the first has finished', async () => {
    const first = await pushArtifact(registry, 'ai/first', 'latest', { layers: [Buffer.alloc(128 * 1024, 'f')] });
    await pushArtifact(registry, 'ai/second', 'latest', { layers: [Buffer.alloc(128 * 1024, 's')] });
    const temp = await openTempStore('slots');
    stores.push(temp);
    const catalog = new Catalog({ store: temp.store, registry: client, logger: createSilentLogger(), maxConcurrentPulls: 1 });
    const order: string[] = [];
    const firstHex = first.layerDigests[0]!.slice('sha256:'.length);
    const hold = registry.cdn!.hold({ afterBytes: 1000, match: ({ path: p }) => p.includes(firstHex) });
    try {
      const firstPull = catalog.pull(registry.reference('ai/first'), { onEvent: (e) => order.push(`first:${e.type}:${e.message}`) });
      await hold.reached();
      let waiting!: () => void;
      const saidWaiting = new Promise<void>((resolve) => (waiting = resolve));
      const secondPull = catalog.pull(registry.reference('ai/second'), {
        onEvent: (e) => {
          order.push(`second:${e.type}:${e.message}`);
          if (e.message === WAITING_FOR_PULL_SLOT) waiting();
        },
      });
      await Promise.race([saidWaiting, secondPull.then(() => assert.fail('the second pull ran while the first held the only slot'))]);
      hold.release();
      await Promise.all([firstPull, secondPull]);
    } finally {
      hold.release();
    }
    // Before the first finished, the second said only that it waits; everything else of it came after.
    const firstDone = order.findIndex((e) => e.startsWith('first:success:'));
    const secondBefore = order.slice(0, firstDone).filter((e) => e.startsWith('second:'));
    const secondAfter = order.slice(firstDone).filter((e) => e.startsWith('second:'));
    assert.ok(firstDone >= 0, order.join(' | '));
    assert.deepEqual(secondBefore, [`second:progress:${WAITING_FOR_PULL_SLOT}`], order.join(' | '));
    assert.ok(secondAfter.includes('second:success:Model pulled successfully'), order.join(' | '));
  });

  test('a reference that does not parse is invalid_reference and one the registry lacks is not_found', async () => {
    const { catalog } = await newCatalog();
    await assert.rejects(catalog.pull('Not A Reference'), (err: AppError) => err.code === 'invalid_reference');
    await assert.rejects(catalog.pull(registry.reference('ai/absent')), (err: AppError) => err.code === 'not_found');
  });
});
