import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { comparisonRows, formatComparison, type ModelComparison } from '../../../src/bench/compare/compare-report.js';
import { roundOrder } from '../../../src/bench/compare/rounds.js';
import type { LevelResult } from '../../../src/bench/metrics.js';
import type { BenchReport } from '../../../src/bench/run.js';

function level(concurrency: number, ttft: number, decode: number, prompt: number, aggregate: number): LevelResult {
  const one = (v: number) => ({ count: 1, mean: v, min: v, max: v, p50: v, p90: v, p99: v });
  return {
    concurrency, requests: 4, errors: 0, retries: 0, errorSamples: [], wallMs: 1000, promptTokens: 400, cachedPromptTokens: 0,
    completionTokens: 512, tokenSource: 'usage', ttftMs: one(ttft), decodeTps: one(decode), promptTps: one(prompt),
    serverPromptTps: { count: 0 }, aggregateTps: aggregate,
  };
}

function report(levels: LevelResult[]): BenchReport {
  return { tool: 'model-runner bench', version: '0', startedAt: '', endpoint: 'x', model: 'm', maxTokens: 128, ignoreEos: true, prompt: { fixed: false }, levels };
}

describe('comparison report', () => {
  const comparison: ModelComparison = {
    label: 'q8_0', gguf: 'm.gguf', oursKind: 'model-runner',
    ours: { report: report([level(1, 120, 150, 900, 140), level(4, 300, 30, 400, 100)]), command: 'ours' },
    peer: { report: report([level(1, 100, 200, 1000, 190), level(4, 250, 40, 500, 110)]), command: 'peer' },
  };

  it('divides our numbers by the peer numbers for each headline metric', () => {
    const rows = comparisonRows(comparison, 4);
    const byMetric = Object.fromEntries(rows.map((r) => [r.metric, r]));
    assert.equal(byMetric['decode, 1 stream (p50)']!.ratio, 0.75);
    assert.equal(byMetric['prompt, 1 stream (p50)']!.ratio, 0.9);
    assert.ok(Math.abs(byMetric['aggregate, 4 streams']!.ratio! - 100 / 110) < 1e-12);
    assert.equal(byMetric['TTFT p50, 1 stream']!.ratio, 1.2);
  });

  it("compares the servers' own prompt timings only where every request of both sides carried one", () => {
    const timed = (l: LevelResult, tps: number, count = l.ttftMs.count): LevelResult => ({ ...l, serverPromptTps: { count, mean: tps, min: tps, max: tps, p50: tps, p90: tps, p99: tps } });
    const metric = "prompt, 1 stream, the server's own timing (p50)";
    const both: ModelComparison = {
      ...comparison,
      ours: { report: report([timed(level(1, 120, 150, 900, 140), 950), level(4, 300, 30, 400, 100)]), command: 'ours' },
      peer: { report: report([timed(level(1, 100, 200, 1000, 190), 1000), level(4, 250, 40, 500, 110)]), command: 'peer' },
    };
    const row = comparisonRows(both, 4).find((r) => r.metric === metric)!;
    assert.deepEqual([row.ours, row.peer, row.ratio], [950, 1000, 0.95]);
    const partly: ModelComparison = { ...both, ours: { report: report([timed(level(1, 120, 150, 900, 140), 950, 0)]), command: 'ours' } };
    const missing = comparisonRows(partly, 4).find((r) => r.metric === metric)!;
    assert.equal(missing.ours, undefined, 'a side whose requests did not all report timings has no figure');
    assert.equal(missing.ratio, undefined);
  });

  it('reports the TTFT overhead as our TTFT minus the peer TTFT in milliseconds', () => {
    const overhead = comparisonRows(comparison, 4).find((r) => r.metric.startsWith('TTFT overhead'))!;
    assert.equal(overhead.difference, 20);
    assert.match(formatComparison([comparison], 4), /\+20\.0 ms/);
  });

  it('adds the RSS row in MiB, ours over the peer, and prints the command line each side ran', () => {
    const memory = { oursBytes: 300 * 2 ** 20, peerBytes: 400 * 2 ** 20 };
    const rows = comparisonRows({ ...comparison, memory }, 4).filter((r) => r.metric.startsWith('RSS'));
    assert.deepEqual(rows.map((r) => [r.metric, r.unit, r.ours, r.peer, r.ratio]), [['RSS with the model loaded', 'MiB', 300, 400, 0.75]]);
    assert.equal(comparisonRows(comparison, 4).filter((r) => r.metric.startsWith('RSS')).length, 0, 'no row without a reading');
    assert.match(formatComparison([{ ...comparison, memory }], 4), /ours: ours\nllama-server: peer/);
  });

  it('adds the cold start row, median against median, and says when runs failed', () => {
    const coldStart = { peerMs: [1200, 1100, 1300], oursMs: [500, 700, 600], oursFirstLoadMs: [], peerMedianMs: 1200, oursMedianMs: 600 };
    const rows = comparisonRows({ ...comparison, coldStart }, 4);
    const row = rows.find((r) => r.metric.startsWith('cold start'))!;
    assert.equal(row.metric, 'cold start to first token (median of 3)');
    assert.equal(row.ratio, 0.5);
    assert.equal(rows.filter((r) => r.metric.startsWith('first load')).length, 0, 'no first-load row without runs');
    assert.match(formatComparison([{ ...comparison, coldStart: { ...coldStart, error: 'status 500' } }], 4), /cold start: not measured in every run: status 500/);
  });

  it("adds the first-load row, our restarted server's median against the same llama-server spawns", () => {
    const coldStart = { peerMs: [1200, 1100, 1300], oursMs: [500, 700, 600], oursFirstLoadMs: [800, 900, 1000], peerMedianMs: 1200, oursMedianMs: 600, oursFirstLoadMedianMs: 900 };
    const row = comparisonRows({ ...comparison, coldStart }, 4).find((r) => r.metric.startsWith('first load'))!;
    assert.deepEqual([row.metric, row.unit, row.ours, row.peer, row.ratio], ['first load after a server start, to first token (median of 3)', 'ms', 900, 1200, 0.75]);
  });

  it('adds the restored-prefix row against llama-server spawned, and a line against our own cold time with the target', () => {
    const restoredPrefix = { promptTokens: 1950, restoredMs: [300, 400, 360], coldMs: [2000, 2100, 1900], peerMs: [1500, 1600, 1400], cachedTokens: [1949, 1949, 1948], restoredMedianMs: 360, coldMedianMs: 2000, peerMedianMs: 1500 };
    const row = comparisonRows({ ...comparison, restoredPrefix }, 4).find((r) => r.metric.startsWith('restored-prefix'))!;
    assert.equal(row.metric, 'restored-prefix TTFT, 1950-token prompt after an unload (median of 3)');
    assert.equal(row.ours, 360);
    assert.equal(row.peer, 1500);
    const text = formatComparison([{ ...comparison, restoredPrefix }], 4);
    assert.match(text, /restored prefix: 0\.18x of our cold time for the same prompt \(cold 2000(\.0)? ms, restored 360(\.0)? ms; at least 1948 of 1950 prompt tokens restored; target <= 0\.2x\)/);
    assert.match(formatComparison([{ ...comparison, restoredPrefix: { ...restoredPrefix, error: 'status 500' } }], 4), /restored prefix: not measured in every run: status 500/);
  });

  it('adds the decode and first-token rows with long conversations cached, and says when a run failed', () => {
    const ttft = { oursTtftMs: [330, 300, 360], peerTtftMs: [270, 250, 260], oursMedianTtftMs: 330, peerMedianTtftMs: 260 };
    const cachedConversations = { oursTps: [90, 100, 95], peerTps: [100, 110, 90], oursMedianTps: 95, peerMedianTps: 100, conversationTokens: 1990, ...ttft };
    const rows = comparisonRows({ ...comparison, cachedConversations }, 4);
    const row = rows.find((r) => r.metric.includes('conversations cached'))!;
    assert.deepEqual([row.metric, row.unit, row.ours, row.peer, row.ratio], ['decode, 1 stream, 3 long conversations cached (median of 3)', 'tok/s', 95, 100, 0.95]);
    const first = rows[rows.indexOf(row) + 1]!;
    assert.deepEqual([first.metric, first.unit, first.ours, first.peer], ['TTFT of that reply, a new short prompt (median of 3)', 'ms', 330, 260]);
    assert.ok(Math.abs(first.ratio! - 330 / 260) < 1e-9);
    assert.equal(comparisonRows(comparison, 4).filter((r) => r.metric.includes('conversations cached')).length, 0, 'no row without the measurement');
    assert.match(formatComparison([{ ...comparison, cachedConversations: { ...cachedConversations, error: 'status 500' } }], 4), /decode with long conversations cached: not measured in every run: status 500/);
  });

  it('leaves ratios empty and says why when one side could not be measured', () => {
    const missing: ModelComparison = { ...comparison, ours: { error: 'the route answered 404' } };
    const rows = comparisonRows(missing, 4);
    assert.equal(rows.length, 8, 'every headline row is still there');
    assert.ok(rows.every((r) => r.ratio === undefined && r.difference === undefined));
    assert.match(formatComparison([missing], 4), /ours: not measured: the route answered 404/);
  });

  it('names the ggml CPU backend both servers loaded, and warns when they differ', () => {
    const side = (c: ModelComparison['ours'], cpuBackends: string[]) => ({ ...c, cpuBackends }) as ModelComparison['ours'];
    const same: ModelComparison = {
      ...comparison,
      ours: side(comparison.ours, ['libggml-cpu-sapphirerapids.so']),
      peer: side(comparison.peer, ['libggml-cpu-sapphirerapids.so']),
    };
    assert.match(formatComparison([same], 4), /CPU backend \(both\): libggml-cpu-sapphirerapids\.so/);
    const different: ModelComparison = { ...same, peer: side(comparison.peer, ['libggml-cpu.so.0.23.0']) };
    assert.match(formatComparison([different], 4),
      /WARNING: different CPU backends, ours libggml-cpu-sapphirerapids\.so vs llama-server libggml-cpu\.so\.0\.23\.0/);
  });

  it('shows the median of each side and of the per-round ratios when there are several rounds', () => {
    const round = (oursDecode: number, peerDecode: number, oursTtft: number, peerTtft: number) => ({
      ours: { report: report([level(1, oursTtft, oursDecode, 900, 140), level(4, 300, 30, 400, 100)]), command: 'ours' },
      peer: { report: report([level(1, peerTtft, peerDecode, 1000, 190), level(4, 250, 40, 500, 110)]), command: 'peer' },
    });
    // The machine slowed down in the second round: both sides alike, so the ratio barely moves.
    const rounds = [round(90, 100, 110, 100), round(45, 50, 220, 200), round(100, 100, 100, 100)];
    const rows = comparisonRows({ ...comparison, ...rounds[0]!, rounds }, 4);
    const decode = rows.find((r) => r.metric === 'decode, 1 stream (p50)')!;
    assert.equal(decode.ours, 90);
    assert.equal(decode.peer, 100);
    assert.equal(decode.ratio, 0.9);
    const overhead = rows.find((r) => r.metric.startsWith('TTFT overhead'))!;
    assert.equal(overhead.difference, 10);
    assert.equal(overhead.ratio, undefined);
    assert.match(formatComparison([{ ...comparison, ...rounds[0]!, rounds }], 4), /3 rounds, sides alternating/);
  });

  it('alternates which server goes first from one round to the next', () => {
    assert.deepEqual([0, 1, 2, 3].map((i) => roundOrder(i).join(' then ')), ['peer then ours', 'ours then peer', 'peer then ours', 'ours then peer']);
  });
});
