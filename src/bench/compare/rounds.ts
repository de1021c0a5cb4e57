/**
 * Several rounds of one comparison, combined. The two servers are measured alternately (peer then
 * ours, then ours then peer...), so that a change in the machine's speed during the run (another
 * tenant, frequency, cache state) falls on both sides alike; each round's ratio compares two
 * measurements taken minutes apart at most, and the median over rounds drops an outlier round.
 */
import { percentile } from '../stats.js';
import type { ComparisonRow } from './compare-report.js';

const median = (values: Array<number | undefined>): number | undefined =>
  percentile(values.filter((v): v is number => v !== undefined), 50);

/** Per row: the median of each side, of the per-round ratios, and of the per-round differences. */
export function combineRounds(rounds: readonly ComparisonRow[][]): ComparisonRow[] {
  const first = rounds[0];
  if (!first) return [];
  return first.map((row, i) => {
    const same = rounds.map((r) => r[i]!);
    const combined: ComparisonRow = { metric: row.metric, unit: row.unit };
    const assign = (key: 'ours' | 'peer' | 'ratio' | 'difference') => {
      const value = median(same.map((r) => r[key]));
      if (value !== undefined) combined[key] = value;
    };
    assign('ours');
    assign('peer');
    if (row.difference !== undefined || same.some((r) => r.difference !== undefined)) assign('difference');
    else assign('ratio');
    return combined;
  });
}

/** The order of the two sides in round `index` (0-based): peer first in even rounds. */
export function roundOrder(index: number): readonly ['peer', 'ours'] | readonly ['ours', 'peer'] {
  return index % 2 === 0 ? (['peer', 'ours'] as const) : (['ours', 'peer'] as const);
}
