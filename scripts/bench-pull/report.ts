/**
 * Medians and the markdown table: one row per scenario, ours against skopeo, and whether the
 * ratio meets the scenario's goal.
 */
import type { PullSample } from './pullers.js';
import type { ScenarioName } from './scenarios.js';

/** Ours/skopeo ratio each scenario should reach. */
export const GOALS: Record<ScenarioName, number> = { direct: 2, 'throttled-cdn': 3 };

export interface ScenarioResult {
  scenario: ScenarioName;
  description: string;
  samples: PullSample[];
  oursMedianMBps: number;
  skopeoMedianMBps: number;
  /** Median of ours divided by median of skopeo. */
  ratio: number;
  goal: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(scenario: ScenarioName, description: string, samples: PullSample[]): ScenarioResult {
  const ours = median(samples.filter((s) => s.side === 'ours').map((s) => s.mbPerSecond));
  const skopeo = median(samples.filter((s) => s.side === 'skopeo').map((s) => s.mbPerSecond));
  return { scenario, description, samples, oursMedianMBps: ours, skopeoMedianMBps: skopeo, ratio: ours / skopeo, goal: GOALS[scenario] };
}

function runs(samples: PullSample[], side: PullSample['side']): string {
  return samples
    .filter((s) => s.side === side)
    .map((s) => s.mbPerSecond.toFixed(0))
    .join(' / ');
}

export function formatTable(results: ScenarioResult[], bytes: number, runCount: number): string {
  const lines = [
    `Pulling one ${(bytes / 1e6).toFixed(0)} MB layer from a local registry, fresh destination each run, ${runCount} interleaved runs each; MB = 10^6 B, medians.`,
    '',
    '| scenario | ours (MB/s) | skopeo (MB/s) | ours / skopeo | goal | ours runs | skopeo runs |',
    '|---|---:|---:|---:|---:|---|---|',
  ];
  for (const r of results) {
    const met = r.ratio >= r.goal ? 'met' : 'missed';
    lines.push(`| ${r.description} | **${r.oursMedianMBps.toFixed(0)}** | ${r.skopeoMedianMBps.toFixed(0)} | **${r.ratio.toFixed(2)}x** | >= ${r.goal}x (${met}) | ${runs(r.samples, 'ours')} | ${runs(r.samples, 'skopeo')} |`);
  }
  return lines.join('\n');
}
