/**
 * One pull by our code, in its own process (as `model-runner pull` would run it): the real
 * Catalog.pull into a fresh store at --store. Prints one JSON line with the pull's own time
 * (manifest, config, layer, verification, commit), leaving out Node's and tsx's start-up,
 * the part of it spent in the store's commit (its fsync and rename), and the CPU time the
 * process spent on the pull (every thread, the hash worker's included).
 *
 * Usage: node --import tsx scripts/bench-pull/pull-once.ts --ref REF --store DIR [--concurrency N] [--chunk-bytes N] [--hash-placement inline|worker] [--proxy URL]
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
  /** CPU time of every thread of the process (the hash worker's too) during the pull, user and system. */
  cpuSeconds: number;
  id: string;
}

const { values } = parseArgs({
  options: {
    ref: { type: 'string' },
    store: { type: 'string' },
    concurrency: { type: 'string' },
    'chunk-bytes': { type: 'string' },
    'hash-placement': { type: 'string' },
    proxy: { type: 'string' },
  },
});
if (!values.ref || !values.store) throw new Error('pull-once needs --ref and --store');
const placement = values['hash-placement'];
if (placement !== undefined && placement !== 'inline' && placement !== 'worker') throw new Error(`--hash-placement must be inline or worker, not ${placement}`);

const store = await openStore(values.store);
const registry = new RegistryClient({
  concurrency: values.concurrency === undefined ? undefined : Number(values.concurrency),
  chunkBytes: values['chunk-bytes'] === undefined ? undefined : Number(values['chunk-bytes']),
  hashPlacement: placement,
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
  const cpuBefore = process.cpuUsage();
  const { id } = await catalog.pull(values.ref);
  const seconds = (performance.now() - began) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const result: PullOnceResult = { seconds, commitSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, id };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  registry.dispose();
  await store.close();
}
