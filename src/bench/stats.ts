/** Small descriptive statistics for benchmark samples. */

/** A distribution in the shape the reports print. Every field is undefined for an empty sample. */
export interface Summary {
  count: number;
  mean?: number;
  min?: number;
  max?: number;
  p50?: number;
  p90?: number;
  p99?: number;
}

/**
 * The q-th percentile (0..100) with linear interpolation between closest ranks, the method
 * numpy calls "linear": p50 of [1, 2, 3, 4] is 2.5, and p0/p100 are the min/max.
 * Returns undefined for an empty sample; non-finite values are ignored.
 */
export function percentile(values: readonly number[], q: number): number | undefined {
  if (!(q >= 0 && q <= 100)) throw new RangeError(`percentile must be within 0..100, got ${q}`);
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const rank = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export function mean(values: readonly number[]): number | undefined {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return undefined;
  return finite.reduce((a, b) => a + b, 0) / finite.length;
}

export function summarize(values: readonly number[]): Summary {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { count: 0 };
  return {
    count: finite.length,
    mean: mean(finite),
    min: Math.min(...finite),
    max: Math.max(...finite),
    p50: percentile(finite, 50),
    p90: percentile(finite, 90),
    p99: percentile(finite, 99),
  };
}

/** a / b, or undefined when either is missing or b is 0 (a ratio of nothing is not 0 or infinity). */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return undefined;
  return a / b;
}
