/**
 * `make bench-pull`: pulls a layer with our puller (Catalog.pull into a fresh store) and with
 * `skopeo copy docker://... oci:DIR`, N runs each, interleaved so that the machine's load falls
 * on both alike, in each scenario (scenarios.ts): a 500 MB layer served directly (with curl to a
 * file, alone and followed by an fsync, as ceilings, and dd writing the layer to the disk as a
 * reference), 144 MB and 1 GB layers through a CDN that caps each connection, and the 144 MB case
 * with our pull through a proxy. Prints a markdown table and writes every sample to --out.
 *
 * Usage: node --import tsx scripts/bench-pull/main.ts [options]
 *   --runs N            runs per puller and scenario (default 3; env BENCH_PULL_RUNS); cdn-1gb runs
 *                       at most --large-runs times (default 1; env BENCH_PULL_LARGE_RUNS).
 *   --throttle B        CDN bytes/s per connection (default 8000000; env BENCH_PULL_THROTTLE).
 *   --scenario NAME     direct | cdn-144mb | cdn-1gb | proxy; repeat for several (default all;
 *                       env BENCH_PULL_SCENARIOS, space-separated).
 *   --concurrency N     our client's connections per blob (default: RegistryClient's default).
 *   --chunk-bytes N     our client's fixed chunk size (default: adaptive).
 *   --hash-placement P  inline | worker: where our client hashes (default: the client's choice by cores).
 *   --cache-dir DIR     where the artifacts and the run destinations live (default .cache/bench-pull).
 *   --out FILE          JSON results (default .cache/bench/pull-latest.json).
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { type BenchArtifact, ensureArtifact } from './artifact.js';
import { type OursSettings, type PullSample, pullWithCurl, pullWithCurlVerified, pullWithOurs, pullWithSkopeo, type Side, writeWithDd } from './pullers.js';
import { formatTable, type ScenarioResult, summarize } from './report.js';
import { type Scenario, SCENARIO_NAMES, SCENARIOS, type ScenarioName, startScenario } from './scenarios.js';

const env = process.env;
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: env.BENCH_PULL_RUNS ?? '3' },
    'large-runs': { type: 'string', default: env.BENCH_PULL_LARGE_RUNS ?? '1' },
    throttle: { type: 'string', default: env.BENCH_PULL_THROTTLE ?? '8000000' },
    scenario: { type: 'string', multiple: true, default: env.BENCH_PULL_SCENARIOS?.split(/\s+/).filter(Boolean) ?? [...SCENARIO_NAMES] },
    concurrency: { type: 'string' },
    'chunk-bytes': { type: 'string' },
    'hash-placement': { type: 'string' },
    'cache-dir': { type: 'string', default: '.cache/bench-pull' },
    out: { type: 'string', default: '.cache/bench/pull-latest.json' },
  },
});

const runCount = Math.max(1, Number(values.runs));
const largeRuns = Math.max(1, Number(values['large-runs']));
const throttle = Number(values.throttle);
const scenarios = values.scenario as ScenarioName[];
for (const name of scenarios) if (!SCENARIO_NAMES.includes(name)) throw new Error(`unknown scenario "${name}"; expected one of ${SCENARIO_NAMES.join(', ')}`);
const ours: OursSettings = {
  concurrency: values.concurrency === undefined ? undefined : Number(values.concurrency),
  chunkBytes: values['chunk-bytes'] === undefined ? undefined : Number(values['chunk-bytes']),
  hashPlacement: values['hash-placement'],
};
const cacheDir = path.resolve(values['cache-dir']);
const workDir = path.join(cacheDir, 'work');

/** Flushes dirty pages so that one run's writeback does not land inside the next run's time. */
async function settleDisk(): Promise<void> {
  await promisify(execFile)('sync');
}

async function pullOnce(side: Side, scenario: Scenario, artifact: BenchArtifact, run: number): Promise<PullSample> {
  const name = scenario.spec.name;
  const bytes = scenario.spec.bytes;
  const destination = path.join(workDir, `${name}-${side}-${run}`);
  await fs.rm(destination, { recursive: true, force: true });
  await settleDisk();
  try {
    const sample =
      side === 'ours'
        ? await pullWithOurs(scenario.reference, destination, bytes, { ...ours, proxyUrl: scenario.proxyUrl })
        : side === 'skopeo'
          ? await pullWithSkopeo(scenario.reference, destination, bytes, scenario.proxyUrl)
          : side === 'curl-verify'
            ? await pullWithCurlVerified(scenario.blobUrl, destination, bytes)
            : side === 'disk'
              ? await writeWithDd(artifact.layerPath, destination, bytes)
              : await pullWithCurl(scenario.blobUrl, destination, bytes, side === 'curl-fsync');
    const extra = sample.commitSeconds === undefined ? '' : ` (commit ${sample.commitSeconds.toFixed(2)} s, CPU ${sample.cpuSeconds?.toFixed(2)} s)`;
    process.stderr.write(`bench-pull: ${name} run ${run} ${side}: ${sample.seconds.toFixed(2)} s, ${sample.mbPerSecond.toFixed(0)} MB/s${extra}\n`);
    return sample;
  } finally {
    await fs.rm(destination, { recursive: true, force: true });
  }
}

// The registries run in their own process groups (the harness detaches them): Ctrl-C must stop them by hand.
let active: Scenario | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void (active?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

const results: ScenarioResult[] = [];
for (const name of scenarios) {
  const spec = SCENARIOS[name];
  const artifact = await ensureArtifact(cacheDir, spec.bytes);
  process.stderr.write(`bench-pull: starting scenario ${name}\n`);
  const scenario = await startScenario(spec, artifact, throttle);
  active = scenario;
  try {
    if (spec.warmup) for (const side of spec.sides) await pullOnce(side, scenario, artifact, 0);
    const samples: PullSample[] = [];
    const runsHere = Math.min(runCount, spec.maxRuns === Infinity ? runCount : largeRuns);
    for (let run = 1; run <= runsHere; run++) {
      // Rotate who goes first, so no side always inherits another's leftovers.
      const order = spec.sides.map((_, i) => spec.sides[(i + run - 1) % spec.sides.length]!);
      for (const side of order) samples.push(await pullOnce(side, scenario, artifact, run));
    }
    const result = summarize(name, scenario.description, spec.bytes, spec.goal, samples);
    if (scenario.proxyRequests) result.proxyRequests = scenario.proxyRequests();
    results.push(result);
  } finally {
    active = undefined;
    await scenario.stop();
  }
}
await fs.rm(workDir, { recursive: true, force: true });

const table = formatTable(results, runCount);
const out = path.resolve(values.out);
await fs.mkdir(path.dirname(out), { recursive: true });
await fs.writeFile(out, `${JSON.stringify({ date: new Date().toISOString(), runs: runCount, largeRuns, throttleBytesPerSecond: throttle, ours, results, table }, null, 2)}\n`);
process.stdout.write(`${table}\n\nJSON: ${path.relative(process.cwd(), out)}\n`);
