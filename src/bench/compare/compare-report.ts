/**
 * The side-by-side table of a comparison: for each model, the headline numbers of our server
 * and of llama-server and their ratio (ours / llama-server).
 */
import type { LevelResult } from '../metrics.js';
import { fmt, formatTable, serverPromptTps } from '../report.js';
import type { BenchReport } from '../run.js';
import { ratio } from '../stats.js';
import { CONVERSATIONS, type CachedConversationsResult } from './cached-conversations.js';
import type { ColdStartResult } from './cold-start.js';
import { agreementLine, type LogprobAgreement } from './logprob-agreement.js';
import type { MemoryResult } from './memory.js';
import type { RestoredPrefixResult } from './restored-prefix.js';
import { combineRounds } from './rounds.js';

/** One side's outcome: a report, or why there is none. */
export type SideResult = { report: BenchReport; command: string; cpuBackends?: string[] } | { error: string };

export interface ModelComparison {
  /** e.g. "smollm2-135m q8_0". */
  label: string;
  gguf: string;
  /** The first round's results (commands, CPU backends, errors). */
  peer: SideResult;
  ours: SideResult;
  /** Every round, in order, the first included; the table shows their medians (see rounds.ts). */
  rounds?: Array<{ peer: SideResult; ours: SideResult }>;
  /** First token of a model not loaded: llama-server spawned per request, ours running (cold-start.ts). */
  coldStart?: ColdStartResult;
  /** A long prompt repeated after an unload: ours restores its saved KV state, llama-server spawned evaluates it (restored-prefix.ts). */
  restoredPrefix?: RestoredPrefixResult;
  /** Greedy log-probabilities of both servers on the same prompts, compared (logprob-agreement.ts). */
  logprobs?: LogprobAgreement;
  /** Single-stream decode after long prompts, each server keeping (or parking) them its own way (cached-conversations.ts). */
  cachedConversations?: CachedConversationsResult;
  /** Both servers' RSS with the model loaded, after the rounds (memory.ts). */
  memory?: MemoryResult;
  /** What the "ours" column ran: our server, or llama-server again to check the harness. */
  oursKind: 'model-runner' | 'llama-server (self-check)';
}

export interface ComparisonRow {
  metric: string;
  unit: string;
  ours?: number;
  peer?: number;
  /** ours / peer; for TTFT, above 1 means slower. */
  ratio?: number;
  /** ours − peer, for the TTFT overhead row. */
  difference?: number;
}

function level(side: SideResult, concurrency: number): LevelResult | undefined {
  return 'report' in side ? side.report.levels.find((l) => l.concurrency === concurrency) : undefined;
}

/**
 * The headline rows. Prompt speed is prompt tokens / TTFT measured by the client on both sides,
 * because only llama-server reports its own timings and the two must be measured alike.
 */
export function comparisonRows(c: ModelComparison, many: number): ComparisonRow[] {
  const rows = c.rounds && c.rounds.length > 1 ? combineRounds(c.rounds.map((round) => roundRows({ ...c, ...round }, many))) : roundRows(c, many);
  if (c.coldStart) {
    const { oursMedianMs: ours, peerMedianMs: peer } = c.coldStart;
    rows.push({ metric: `cold start to first token (median of ${c.coldStart.oursMs.length})`, unit: 'ms', ours, peer, ratio: ratio(ours, peer) });
    const { oursFirstLoadMs, oursFirstLoadMedianMs: firstLoad } = c.coldStart;
    if (oursFirstLoadMs.length > 0) rows.push({ metric: `first load after a server start, to first token (median of ${oursFirstLoadMs.length})`, unit: 'ms', ours: firstLoad, peer, ratio: ratio(firstLoad, peer) });
  }
  if (c.restoredPrefix) {
    const { restoredMedianMs: ours, peerMedianMs: peer, promptTokens, restoredMs } = c.restoredPrefix;
    rows.push({ metric: `restored-prefix TTFT, ${promptTokens ?? '?'}-token prompt after an unload (median of ${restoredMs.length})`, unit: 'ms', ours, peer, ratio: ratio(ours, peer) });
  }
  if (c.cachedConversations) {
    const { oursMedianTps: ours, peerMedianTps: peer, oursTps } = c.cachedConversations;
    rows.push({ metric: `decode, 1 stream, ${CONVERSATIONS} long conversations cached (median of ${oursTps.length})`, unit: 'tok/s', ours, peer, ratio: ratio(ours, peer) });
    const { oursMedianTtftMs: oursTtft, peerMedianTtftMs: peerTtft, oursTtftMs } = c.cachedConversations;
    if (oursTtftMs.length > 0) rows.push({ metric: `TTFT of that reply, a new short prompt (median of ${oursTtftMs.length})`, unit: 'ms', ours: oursTtft, peer: peerTtft, ratio: ratio(oursTtft, peerTtft) });
  }
  if (c.memory) {
    const mib = (bytes: number | undefined) => (bytes === undefined ? undefined : bytes / 2 ** 20);
    const [ours, peer] = [mib(c.memory.oursBytes), mib(c.memory.peerBytes)];
    rows.push({ metric: 'RSS with the model loaded', unit: 'MiB', ours, peer, ratio: ratio(ours, peer) });
  }
  return rows;
}

/** The rows of one round. */
function roundRows(c: Pick<ModelComparison, 'peer' | 'ours'>, many: number): ComparisonRow[] {
  const pick = (concurrency: number, get: (l: LevelResult) => number | undefined) => ({
    ours: (() => { const l = level(c.ours, concurrency); return l && get(l); })(),
    peer: (() => { const l = level(c.peer, concurrency); return l && get(l); })(),
  });
  const row = (metric: string, unit: string, values: { ours?: number; peer?: number }): ComparisonRow => ({
    metric, unit, ...values, ratio: ratio(values.ours, values.peer),
  });
  const ttft = pick(1, (l) => l.ttftMs.p50);
  return [
    row('decode, 1 stream (p50)', 'tok/s', pick(1, (l) => l.decodeTps.p50)),
    row('prompt, 1 stream (p50)', 'tok/s', pick(1, (l) => l.promptTps.p50)),
    // The same prompts timed by each server itself (llama-server's `timings`, which ours also
    // reports): the engine's share of the row above, without HTTP, templating or queueing.
    row("prompt, 1 stream, the server's own timing (p50)", 'tok/s', pick(1, serverPromptTps)),
    row(`aggregate, ${many} streams`, 'tok/s', pick(many, (l) => l.aggregateTps)),
    row(`decode per stream, ${many} streams`, 'tok/s', pick(many, (l) => l.decodeTps.p50)),
    row('TTFT p50, 1 stream', 'ms', ttft),
    row(`TTFT p50, ${many} streams`, 'ms', pick(many, (l) => l.ttftMs.p50)),
    {
      metric: 'TTFT overhead (ours - peer)', unit: 'ms',
      difference: ttft.ours !== undefined && ttft.peer !== undefined ? ttft.ours - ttft.peer : undefined,
    },
  ];
}

export function formatComparison(comparisons: ModelComparison[], many: number): string {
  const out: string[] = [];
  for (const c of comparisons) {
    out.push(`== ${c.label}  (${c.gguf})`);
    const rows = comparisonRows(c, many).map((r) => [
      r.metric, r.unit,
      r.difference !== undefined ? '' : fmt(r.ours), r.difference !== undefined ? '' : fmt(r.peer),
      r.difference !== undefined ? `${r.difference >= 0 ? '+' : ''}${fmt(r.difference)} ms` : r.ratio === undefined ? '-' : `${fmt(r.ratio, 2)}x`,
    ]);
    out.push(formatTable(['metric', 'unit', c.oursKind === 'model-runner' ? 'ours' : 'self-check', 'llama-server', 'ours/peer'], rows));
    const backends = (side: SideResult) => ('report' in side ? side.cpuBackends?.join(', ') || 'unknown' : undefined);
    const [oursBackend, peerBackend] = [backends(c.ours), backends(c.peer)];
    if (oursBackend !== undefined && peerBackend !== undefined) {
      out.push(oursBackend === peerBackend
        ? `CPU backend (both): ${oursBackend}`
        : `WARNING: different CPU backends, ours ${oursBackend} vs llama-server ${peerBackend}: the comparison is not like for like`);
    }
    const commands = (side: SideResult) => ('command' in side ? side.command : undefined);
    if (commands(c.ours) && commands(c.peer)) out.push(`ours: ${commands(c.ours)}\nllama-server: ${commands(c.peer)}`);
    if (c.coldStart?.error) out.push(`cold start: not measured in every run: ${c.coldStart.error}`);
    if (c.restoredPrefix) out.push(restoredPrefixLine(c.restoredPrefix));
    if (c.cachedConversations?.error) out.push(`decode with long conversations cached: not measured in every run: ${c.cachedConversations.error}`);
    if (c.logprobs) out.push(agreementLine(c.logprobs));
    const rounds = c.rounds ?? [{ peer: c.peer, ours: c.ours }];
    if (rounds.length > 1) out.push(`${rounds.length} rounds, sides alternating; medians of each side and of the per-round ratios`);
    for (const name of ['ours', 'llama-server'] as const) {
      const sides = rounds.map((r) => (name === 'ours' ? r.ours : r.peer));
      const failed = sides.find((side): side is { error: string } => 'error' in side);
      if (failed) out.push(`${name}: not measured${rounds.length > 1 ? ' in every round' : ''}: ${failed.error}`);
      const levels = sides.flatMap((side) => ('report' in side ? side.report.levels : []));
      const errors = levels.reduce((a, l) => a + l.errors, 0);
      const retries = levels.reduce((a, l) => a + l.retries, 0);
      if (retries > 0) out.push(`${name}: ${retries} requests sent again after an unanswered dropped connection`);
      if (errors > 0) out.push(`${name}: ${errors} failed requests: ${levels.flatMap((l) => l.errorSamples).join('; ')}`);
    }
    out.push('');
  }
  return out.join('\n');
}

/** The restored prefix against our own cold time for the same prompt length, the figure the prompt cache is judged by. */
function restoredPrefixLine(r: RestoredPrefixResult): string {
  if (r.error) return `restored prefix: not measured in every run: ${r.error}`;
  const share = ratio(r.restoredMedianMs, r.coldMedianMs);
  const cached = r.cachedTokens.length > 0 ? Math.min(...r.cachedTokens) : undefined;
  return `restored prefix: ${share === undefined ? '-' : `${fmt(share, 2)}x`} of our cold time for the same prompt (cold ${fmt(r.coldMedianMs)} ms, restored ${fmt(r.restoredMedianMs)} ms; ` +
    `at least ${cached ?? '?'} of ${r.promptTokens ?? '?'} prompt tokens restored; target <= 0.2x)`;
}
