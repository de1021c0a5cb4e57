/**
 * `make bench-pull`: pulls the same ~500 MB artifact with our puller (Catalog.pull into a fresh
 * store) and with `skopeo copy docker://... oci:DIR`, N runs each, interleaved so that the
 * machine's load falls on both alike, from (a) the anonymous registry directly and (b) the
 * token registry redirecting blobs to a CDN that throttles each connection. Prints a markdown
 * table and writes every sample to --out.
 *
 * Usage: node --import tsx scripts/bench-pull/main.ts [options]
 *   --runs N            runs per puller and scenario (default 3; env BENCH_PULL_RUNS).
 *   --bytes N           layer size in bytes (default 500000000; env BENCH_PULL_BYTES).
 *   --throttle B        CDN bytes/s per connection in the throttled scenario (default 20000000; env BENCH_PULL_THROTTLE).
 *   --scenario NAME     direct | throttled-cdn; repeat for both (default both; env BENCH_PULL_SCENARIOS, space-separated).
 *   --concurrency N     our client's connections per blob (default: RegistryClient's default).
 *   --chunk-bytes N     our client's chunk size (default: RegistryClient's default).
 *   --cache-dir DIR     where the artifact and the run destinations live (default .cache/bench-pull).
 *   --out FILE          JSON results (default .cache/bench/pull-latest.json).
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { ensureArtifact } from './artifact.js';
import { type OursSettings, type PullSample, pullWithOurs, pullWithSkopeo, type Side } from './pullers.js';
import { formatTable, type ScenarioResult, summarize } from './report.js';
import { type Scenario, SCENARIO_NAMES, type ScenarioName, startScenario } from './scenarios.js';

const env = process.env;
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: env.BENCH_PULL_RUNS ?? '3' },
    bytes: { type: 'string', default: env.BENCH_PULL_BYTES ?? '500000000' },
    throttle: { type: 'string', default: env.BENCH_PULL_THROTTLE ?? '20000000' },
    scenario: { type: 'string', multiple: true, default: env.BENCH_PULL_SCENARIOS?.split(/\s+/).filter(Boolean) ?? [...SCENARIO_NAMES] },
    concurrency: { type: 'string' },
    'chunk-bytes': { type: 'string' },
    'cache-dir': { type: 'string', default: '.cache/bench-pull' },
    out: { type: 'string', default: '.cache/bench/pull-latest.json' },
  },
});

const runCount = Math.max(1, Number(values.runs));
const bytes = Number(values.bytes);
const throttle = Number(values.throttle);
const scenarios = values.scenario as ScenarioName[];
for (const name of scenarios) if (!SCENARIO_NAMES.includes(name)) throw new Error(`unknown scenario "${name}"; expected one of ${SCENARIO_NAMES.join(', ')}`);
const ours: OursSettings = {
  concurrency: values.concurrency === undefined ? undefined : Number(values.concurrency),
  chunkBytes: values['chunk-bytes'] === undefined ? undefined : Number(values['chunk-bytes']),
};
const cacheDir = path.resolve(values['cache-dir']);
const workDir = path.join(cacheDir, 'work');

/** Flushes dirty pages so that one run's writeback does not land inside the next run's time. */
async function settleDisk(): Promise<void> {
  await promisify(execFile)('sync');
}

async function pullOnce(side: Side, reference: string, run: number, scenario: ScenarioName): Promise<PullSample> {
  const destination = path.join(workDir, `${scenario}-${side}-${run}`);
  await fs.rm(destination, { recursive: true, force: true });
  await settleDisk();
  try {
    const sample = side === 'ours' ? await pullWithOurs(reference, destination, bytes, ours) : await pullWithSkopeo(reference, destination, bytes);
    const extra = sample.commitSeconds === undefined ? '' : ` (commit ${sample.commitSeconds.toFixed(2)} s)`;
    process.stderr.write(`bench-pull: ${scenario} run ${run} ${side}: ${sample.seconds.toFixed(2)} s, ${sample.mbPerSecond.toFixed(0)} MB/s${extra}\n`);
    return sample;
  } finally {
    await fs.rm(destination, { recursive: true, force: true });
  }
}

// The registries run in their own process groups (the harness detaches them): Ctrl-C must stop them by hand.
let active: Scenario | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void (active?.registry.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

const artifact = await ensureArtifact(cacheDir, bytes);
const results: ScenarioResult[] = [];
for (const name of scenarios) {
  process.stderr.write(`bench-pull: starting scenario ${name}\n`);
  const scenario = await startScenario(name, artifact, throttle);
  active = scenario;
  try {
    const samples: PullSample[] = [];
    for (let run = 1; run <= runCount; run++) {
      // Alternate who goes first, so neither side always inherits the other's leftovers.
      const order: Side[] = run % 2 === 1 ? ['ours', 'skopeo'] : ['skopeo', 'ours'];
      for (const side of order) samples.push(await pullOnce(side, scenario.reference, run, name));
    }
    results.push(summarize(name, scenario.description, samples));
  } finally {
    active = undefined;
    await scenario.registry.stop();
  }
}
await fs.rm(workDir, { recursive: true, force: true });

const table = formatTable(results, bytes, runCount);
const out = path.resolve(values.out);
await fs.mkdir(path.dirname(out), { recursive: true });
await fs.writeFile(out, `${JSON.stringify({ date: new Date().toISOString(), bytes, digest: artifact.digest, runs: runCount, throttleBytesPerSecond: throttle, ours, results, table }, null, 2)}\n`);
process.stdout.write(`${table}\n\nJSON: ${path.relative(process.cwd(), out)}\n`);
