/**
 * Medians and the markdown table: one row per scenario, ours against skopeo (and against curl
 * where curl ran), and whether the ratio meets the scenario's goal.
 */
import type { PullSample, Side } from './pullers.js';
import { CURL_GOAL, type ScenarioName } from './scenarios.js';

export interface ScenarioResult {
  scenario: ScenarioName;
  description: string;
  bytes: number;
  samples: PullSample[];
  oursMedianMBps: number;
  skopeoMedianMBps: number;
  /** Median of ours divided by median of skopeo. */
  ratio: number;
  goal: number;
  /** Where curl ran: its median, and ours divided by it. */
  curlMedianMBps?: number;
  curlRatio?: number;
  /** Where curl ran with an fsync after it: its median, and ours divided by it. */
  curlFsyncMedianMBps?: number;
  curlFsyncRatio?: number;
  /** Where curl ran with the stream hashed and an fsync after it: its median, its share of curl's, and ours divided by it. */
  curlVerifyMedianMBps?: number;
  curlVerifyOfCurl?: number;
  curlVerifyRatio?: number;
  /** Where dd wrote the layer to the disk (no network): its median, and ours divided by it. */
  diskMedianMBps?: number;
  diskRatio?: number;
  /** Median CPU seconds of our pulling process per pull, where reported. */
  oursMedianCpuSeconds?: number;
  /** Requests the proxy relayed during the scenario, where there was one. */
  proxyRequests?: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(scenario: ScenarioName, description: string, bytes: number, goal: number, samples: PullSample[]): ScenarioResult {
  const of = (side: Side): number => median(samples.filter((s) => s.side === side).map((s) => s.mbPerSecond));
  const ours = of('ours');
  const skopeo = of('skopeo');
  const result: ScenarioResult = { scenario, description, bytes, samples, oursMedianMBps: ours, skopeoMedianMBps: skopeo, ratio: ours / skopeo, goal };
  if (samples.some((s) => s.side === 'curl')) {
    result.curlMedianMBps = of('curl');
    result.curlRatio = ours / result.curlMedianMBps;
  }
  if (samples.some((s) => s.side === 'curl-fsync')) {
    result.curlFsyncMedianMBps = of('curl-fsync');
    result.curlFsyncRatio = ours / result.curlFsyncMedianMBps;
  }
  if (samples.some((s) => s.side === 'curl-verify')) {
    result.curlVerifyMedianMBps = of('curl-verify');
    result.curlVerifyRatio = ours / result.curlVerifyMedianMBps;
    if (result.curlMedianMBps !== undefined) result.curlVerifyOfCurl = result.curlVerifyMedianMBps / result.curlMedianMBps;
  }
  if (samples.some((s) => s.side === 'disk')) {
    result.diskMedianMBps = of('disk');
    result.diskRatio = ours / result.diskMedianMBps;
  }
  const cpu = samples.filter((s) => s.side === 'ours' && s.cpuSeconds !== undefined).map((s) => s.cpuSeconds!);
  if (cpu.length > 0) result.oursMedianCpuSeconds = median(cpu);
  return result;
}

function runs(samples: PullSample[], side: Side): string {
  return samples
    .filter((s) => s.side === side)
    .map((s) => s.mbPerSecond.toFixed(0))
    .join(' / ');
}

const met = (ratio: number, goal: number): string => `>= ${goal}x (${ratio >= goal ? 'met' : 'missed'})`;

export function formatTable(results: ScenarioResult[], runCount: number): string {
  const lines = [
    `Pulling one layer from a local registry, fresh destination each run, up to ${runCount} interleaved runs each; MB = 10^6 B, medians.`,
    '',
    '| scenario | ours (MB/s) | skopeo (MB/s) | ours / skopeo | goal | ours runs | skopeo runs |',
    '|---|---:|---:|---:|---:|---|---|',
  ];
  for (const r of results) {
    lines.push(`| ${r.description} | **${r.oursMedianMBps.toFixed(0)}** | ${r.skopeoMedianMBps.toFixed(0)} | **${r.ratio.toFixed(2)}x** | ${met(r.ratio, r.goal)} | ${runs(r.samples, 'ours')} | ${runs(r.samples, 'skopeo')} |`);
  }
  for (const r of results) {
    if (r.curlRatio !== undefined) {
      lines.push('', `${r.scenario}: curl writing the blob to a file ${r.curlMedianMBps!.toFixed(0)} MB/s (${runs(r.samples, 'curl')}); ours / curl **${r.curlRatio.toFixed(2)}x**, goal ${met(r.curlRatio, CURL_GOAL)}.`);
    }
    if (r.curlFsyncRatio !== undefined) {
      lines.push('', `${r.scenario}: curl to a file followed by an fsync of it (on the disk, as our store has a blob before its rename) ${r.curlFsyncMedianMBps!.toFixed(0)} MB/s (${runs(r.samples, 'curl-fsync')}); ours / (curl + fsync) **${r.curlFsyncRatio.toFixed(2)}x**.`);
    }
    if (r.curlVerifyRatio !== undefined) {
      const ofCurl = r.curlVerifyOfCurl === undefined ? '' : `, itself ${r.curlVerifyOfCurl.toFixed(2)}x curl alone`;
      lines.push('', `${r.scenario}: curl to a file with the stream hashed by OpenSSL on the way and an fsync after (the digest checked and the blob on the disk, as ours, with standard tools) ${r.curlVerifyMedianMBps!.toFixed(0)} MB/s (${runs(r.samples, 'curl-verify')})${ofCurl}; ours / that **${r.curlVerifyRatio.toFixed(2)}x**.`);
    }
    if (r.diskRatio !== undefined) {
      const curlOverDisk = r.curlMedianMBps === undefined ? '' : `; curl's pace without the fsync is ${(r.curlMedianMBps / r.diskMedianMBps!).toFixed(2)}x that`;
      lines.push('', `${r.scenario}: the disk alone, the layer file copied onto it by dd (O_DIRECT, then fsync; no network, no digest) ${r.diskMedianMBps!.toFixed(0)} MB/s (${runs(r.samples, 'disk')}); ours / disk **${r.diskRatio.toFixed(2)}x**${curlOverDisk}.`);
    }
    if (r.oursMedianCpuSeconds !== undefined) lines.push('', `${r.scenario}: our pulling process used ${r.oursMedianCpuSeconds.toFixed(2)} s of CPU per pull (median, every thread).`);
    if (r.proxyRequests !== undefined) lines.push('', `${r.scenario}: the proxy relayed ${r.proxyRequests} requests of our pulls.`);
  }
  return lines.join('\n');
}
