/**
 * `make bench`: runs the same benchmark against llama-server and against our server, one
 * server at a time (the machine's cores are shared), alternating between them for several
 * rounds, on each model given, and prints the median ratios ours / llama-server. Writes the full
 * JSON to --out.
 *
 * Usage: node dist/bench/compare/main.js --llama-server BIN --model LABEL=FILE [--model ...] [options]
 *   --llama-server BIN     llama-server binary (scripts/build-llama-server.sh prints its path).
 *   --model LABEL=FILE     a GGUF to benchmark, e.g. q8_0=.cache/bench-models/smollm2-135m-q8_0.gguf.
 *   --threads N            threads of both servers (default: our server's default, the core count).
 *   --parallel N           parallel sequences of both servers, and the high concurrency level (default 4).
 *   --context N            context tokens per sequence (default 2048).
 *   --prompt-tokens N      unique prompt of about N tokens per request (default 128).
 *   --max-tokens N         tokens generated per request, EOS ignored (default 128).
 *   --requests N           requests per concurrency level (default 8).
 *   --rounds N             rounds per model, the two servers measured alternately in each (default 3).
 *   --cold-runs N          cold starts per side (first token of a model not loaded; see cold-start.ts), 0 for none (default 5).
 *   --restored-runs N      runs of the restored-prefix measurement (a ~2,000-token prompt repeated after an unload; see restored-prefix.ts), 0 for none (default 3).
 *   --cached-runs N        runs of the decode with long conversations cached (see cached-conversations.ts), 0 for none (default 3).
 *   --settings LIST        which comparisons to run, comma-separated: matched (both servers with the
 *                          settings above) and defaults (each started as a user starts it: only the
 *                          model and an address). Default: matched,defaults.
 *   --self-check           run llama-server in the "ours" column too: the ratios then show the harness's noise.
 *   --out FILE             JSON output (default .cache/bench/latest.json).
 *   --work-dir DIR         logs and sockets (default .cache/bench).
 *
 * Each comparison ends with both servers' RSS, model loaded (see memory.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runBench, type BenchOptions } from '../run.js';
import { comparisonRows, formatComparison, type ModelComparison, type SideResult } from './compare-report.js';
import { measureDecodeWithCachedConversations } from './cached-conversations.js';
import { measureColdStarts } from './cold-start.js';
import { measureLogprobAgreement } from './logprob-agreement.js';
import { measureMemory } from './memory.js';
import { measureRestoredPrefix } from './restored-prefix.js';
import { loadedCpuBackends } from './process.js';
import { roundOrder } from './rounds.js';
import { startLlamaServer, startModelRunner, type RunningServer, type ServerSettings } from './servers.js';

const { values } = parseArgs({
  options: {
    'llama-server': { type: 'string' },
    model: { type: 'string', multiple: true, default: [] },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    parallel: { type: 'string', default: '4' },
    context: { type: 'string', default: '2048' },
    'prompt-tokens': { type: 'string', default: '128' },
    'max-tokens': { type: 'string', default: '128' },
    requests: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    'cold-runs': { type: 'string', default: '5' },
    'restored-runs': { type: 'string', default: '3' },
    'cached-runs': { type: 'string', default: '3' },
    settings: { type: 'string', default: 'matched,defaults' },
    'self-check': { type: 'boolean', default: false },
    out: { type: 'string', default: '.cache/bench/latest.json' },
    'work-dir': { type: 'string', default: '.cache/bench' },
  },
});

function int(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${raw}"`);
  return n;
}

const binary = values['llama-server'];
if (!binary || values.model!.length === 0) {
  process.stderr.write('usage: main.js --llama-server BIN --model LABEL=FILE [--model ...] (see the header of src/bench/compare/main.ts)\n');
  process.exit(2);
}
const threads = int('threads', values.threads);
const settingsKinds = values.settings!.split(',').map((kind) => kind.trim()).filter(Boolean);
for (const kind of settingsKinds) {
  if (kind !== 'matched' && kind !== 'defaults') {
    process.stderr.write(`--settings takes matched and/or defaults, got "${kind}"\n`);
    process.exit(2);
  }
}
const parallel = int('parallel', values.parallel);
const workDir = path.resolve(values['work-dir']!);
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../cli.js');
const log = (line: string) => process.stderr.write(`${line}\n`);

type Side = 'peer' | 'ours';

/** Starts a server; a failure is logged and returned as the side's result. */
async function startSide(start: () => Promise<RunningServer>, name: string): Promise<RunningServer | { error: string }> {
  try {
    const server = await start();
    log(`${name}: ${server.command}`);
    return server;
  } catch (err) {
    log(`${name}: could not start: ${(err as Error).message}`);
    return { error: (err as Error).message };
  }
}

/**
 * One benchmark run against a running server. `promptWords`: the peer's calibrated prompt
 * length, so that both sides get the very same prompts.
 */
async function measure(server: RunningServer, name: string, seed: number, promptWords?: number): Promise<SideResult> {
  try {
    const options: BenchOptions = {
      endpoint: server.endpoint,
      model: server.model,
      concurrency: [1, parallel],
      requests: int('requests', values.requests),
      maxTokens: int('max-tokens', values['max-tokens']),
      prompt: { tokens: int('prompt-tokens', values['prompt-tokens']) },
      promptWords,
      ignoreEos: true,
      warmup: 2,
      timeoutMs: 300_000,
      // The same seed on both sides: both servers see the same prompts in the same order.
      seed,
      onProgress: (line) => log(`${name}: ${line}`),
    };
    const report = await runBench(options);
    // Read while the model is still loaded: which ggml CPU variant did this server pick?
    const cpuBackends = await loadedCpuBackends(server.pid);
    log(`${name}: CPU backend ${cpuBackends.join(', ') || 'unknown'}`);
    return { report, command: server.command, cpuBackends };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/**
 * Both servers run side by side (an idle one costs no CPU) and are measured alternately, round
 * after round; every round has its own prompts, so no prompt cache carries over between rounds.
 */
async function compareModel(label: string, settings: ServerSettings): Promise<Pick<ModelComparison, 'rounds' | 'coldStart' | 'restoredPrefix' | 'memory' | 'logprobs' | 'cachedConversations'> & { rounds: Array<{ peer: SideResult; ours: SideResult }> }> {
  const selfCheck = values['self-check']!;
  const oursName = `${selfCheck ? 'self-check' : 'model-runner'} ${label}`;
  const names: Record<Side, string> = { peer: `llama-server ${label}`, ours: oursName };
  const oursOptions = { cli, reference: `bench/${label.replace(/[^a-z0-9._-]+/gi, '-').replace(/-+$/, '').toLowerCase()}:latest` };
  const servers: Record<Side, RunningServer | { error: string }> = {
    peer: await startSide(() => startLlamaServer(binary!, settings), names.peer),
    ours: await startSide(
      () => (selfCheck
        ? startLlamaServer(binary!, settings, 'llama-server-again')
        : startModelRunner(oursOptions, settings)),
      oursName,
    ),
  };
  const rounds: Array<{ peer: SideResult; ours: SideResult }> = [];
  let words: number | undefined;
  try {
    for (let r = 0; r < int('rounds', values.rounds); r++) {
      const seed = Math.floor(Math.random() * 2 ** 31);
      const round: Partial<Record<Side, SideResult>> = {};
      // The peer calibrates the prompt length once; every later run reuses its word count.
      if (words === undefined && roundOrder(r)[0] === 'peer') {
        round.peer = await runSide(servers.peer, `${names.peer} round ${r + 1}`, seed, undefined);
        words = 'report' in round.peer ? round.peer.report.prompt.words : undefined;
      }
      for (const side of roundOrder(r)) round[side] ??= await runSide(servers[side], `${names[side]} round ${r + 1}`, seed, words);
      rounds.push({ peer: round.peer!, ours: round.ours! });
    }
    const { ours, peer } = servers;
    if (selfCheck || !('stop' in ours)) return { rounds };
    // Before the cold starts, which unload our model: the matched reading needs it loaded.
    const memory = 'stop' in peer ? await measureMemory({ ours, peer }) : undefined;
    const logprobs = 'stop' in peer ? await measureLogprobAgreement({ ours, peer }) : undefined;
    const cachedRuns = Number(values['cached-runs']);
    const cachedConversations = 'stop' in peer && cachedRuns > 0 ? await measureDecodeWithCachedConversations({ ours, peer }, settings, cachedRuns, (line) => log(`${label}: ${line}`)) : undefined;
    const coldRuns = Number(values['cold-runs']);
    const restoredRuns = Number(values['restored-runs']);
    const coldStart = coldRuns > 0 ? await measureColdStarts(binary!, settings, ours, coldRuns, (line) => log(`${label}: ${line}`)) : undefined;
    const restoredPrefix = restoredRuns > 0 ? await measureRestoredPrefix(binary!, settings, ours, restoredRuns, (line) => log(`${label}: ${line}`)) : undefined;
    return { rounds, ...(coldStart ? { coldStart } : {}), ...(restoredPrefix ? { restoredPrefix } : {}), ...(memory ? { memory } : {}), ...(logprobs ? { logprobs } : {}), ...(cachedConversations ? { cachedConversations } : {}) };
  } finally {
    for (const server of Object.values(servers)) if ('stop' in server) await server.stop();
  }
  return { rounds };
}

function runSide(server: RunningServer | { error: string }, name: string, seed: number, words: number | undefined): Promise<SideResult> {
  return 'error' in server ? Promise.resolve(server) : measure(server, name, seed, words);
}

async function main(): Promise<void> {
  await mkdir(workDir, { recursive: true });
  const startedAt = new Date().toISOString();
  const loadBefore = os.loadavg();
  const comparisons: ModelComparison[] = [];
  for (const spec of values.model!) {
    const eq = spec.indexOf('=');
    const [name, gguf] = eq > 0 ? [spec.slice(0, eq), path.resolve(spec.slice(eq + 1))] : [path.basename(spec), path.resolve(spec)];
    for (const kind of settingsKinds) {
      const label = `${name} ${kind === 'defaults' ? 'at defaults' : 'matched'}`;
      const settings: ServerSettings = { gguf, threads, parallel, contextPerSequence: int('context', values.context), workDir, label: `${name}-${kind}`, atDefaults: kind === 'defaults' };
      const measured = await compareModel(label, settings);
      comparisons.push({ label, gguf, peer: measured.rounds[0]!.peer, ours: measured.rounds[0]!.ours, ...measured, oursKind: values['self-check'] ? 'llama-server (self-check)' : 'model-runner' });
    }
  }
  const header = `matched settings: threads=${threads} parallel=${parallel} context/seq=${values.context}; every run: prompt~${values['prompt-tokens']} tok max_tokens=${values['max-tokens']} ` +
    `requests/level=${values.requests} rounds=${values.rounds}; cpus=${os.availableParallelism()} load avg ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`;
  process.stdout.write(`\n${header}\n\n${formatComparison(comparisons, parallel)}`);
  const out = path.resolve(values.out!);
  await mkdir(path.dirname(out), { recursive: true });
  const json = {
    startedAt,
    machine: { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model, loadAverageBefore: loadBefore, loadAverageAfter: os.loadavg() },
    settings: { threads, parallel, contextPerSequence: Number(values.context), promptTokens: Number(values['prompt-tokens']), maxTokens: Number(values['max-tokens']), requests: Number(values.requests), rounds: Number(values.rounds) },
    comparisons: comparisons.map((c) => ({ ...c, rows: comparisonRows(c, parallel) })),
  };
  await writeFile(out, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`JSON: ${path.relative(process.cwd(), out)}\n`);
  if (comparisons.some((c) => 'error' in c.peer)) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
