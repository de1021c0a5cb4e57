/**
 * Child process of the crash tests: writes, retags and deletes models in a tight loop until it is
 * SIGKILLed. It reports a model on stdout only once writeModel has resolved, and announces a
 * delete before starting it, so the parent knows which models must survive the kill.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { openStore } from '../../../../src/store/index.js';
import { manifestFor } from './store-fixtures.js';

const root = process.argv[2]!;
const store = await openStore(root);
const written: string[] = [];
for (let i = 0; ; i++) {
  const layer = randomBytes(1024 + Math.floor(Math.random() * 512 * 1024));
  // Alternate the two ways blobs arrive, so a kill can land inside either.
  const layerInfo = i % 2 === 0
    ? { digest: await store.writeBlob(layer), size: layer.length }
    : await store.writeBlobFromStream(Readable.from([layer.subarray(0, 1000), layer.subarray(1000)]));
  const config = Buffer.from(JSON.stringify({ config: { format: 'gguf' }, n: i, pid: process.pid }));
  const configDigest = await store.writeBlob(config);
  const manifest = manifestFor([layerInfo], { digest: configDigest, size: config.length });
  const id = await store.writeModel(manifest, [`ai/crash-${process.pid}-${i}:latest`, 'ai/moving:latest']);
  process.stdout.write(`wrote ${id}\n`);
  written.push(id);
  if (i % 3 === 2) {
    const victim = written.splice(0, 1)[0]!;
    process.stdout.write(`deleting ${victim}\n`);
    await store.deleteModel(victim);
  }
}
