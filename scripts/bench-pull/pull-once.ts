/**
 * One pull by our code, in its own process (as `model-runner pull` would run it): the real
 * Catalog.pull into a fresh store at --store. Prints one JSON line with the pull's own time
 * (manifest, config, layer, verification, commit), leaving out Node's and tsx's start-up,
 * and the part of it spent in the store's commit (its fsync and rename).
 *
 * Usage: node --import tsx scripts/bench-pull/pull-once.ts --ref REF --store DIR [--concurrency N] [--chunk-bytes N] [--proxy URL]
 * (--proxy: every hop, http and https, goes through this proxy.)
 */
import { parseArgs } from 'node:util';
import { createSilentLogger } from '../../src/log.js';
import { Catalog } from '../../src/models/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { openStore } from '../../src/store/index.js';

export interface PullOnceResult {
  seconds: number;
  commitSeconds: number;
  id: string;
}

const { values } = parseArgs({
  options: {
    ref: { type: 'string' },
    store: { type: 'string' },
    concurrency: { type: 'string' },
    'chunk-bytes': { type: 'string' },
    proxy: { type: 'string' },
  },
});
if (!values.ref || !values.store) throw new Error('pull-once needs --ref and --store');

const store = await openStore(values.store);
const registry = new RegistryClient({
  concurrency: values.concurrency === undefined ? undefined : Number(values.concurrency),
  chunkBytes: values['chunk-bytes'] === undefined ? undefined : Number(values['chunk-bytes']),
  // The bench's registries are on loopback, which only a proxy on this machine can reach.
  proxy: values.proxy === undefined ? undefined : { httpProxy: values.proxy, httpsProxy: values.proxy, proxyLoopback: true },
});
// Timed from outside the store so that the report can say how much of a pull is durability.
let commitSeconds = 0;
const commit = store.commitPartial.bind(store);
store.commitPartial = async (...args) => {
  const began = performance.now();
  try {
    return await commit(...args);
  } finally {
    commitSeconds += (performance.now() - began) / 1000;
  }
};
const catalog = new Catalog({ store, registry, logger: createSilentLogger() });
try {
  const began = performance.now();
  const { id } = await catalog.pull(values.ref);
  const result: PullOnceResult = { seconds: (performance.now() - began) / 1000, commitSeconds, id };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  registry.dispose();
  await store.close();
}
