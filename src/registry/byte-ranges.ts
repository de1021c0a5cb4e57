/**
 * Half-open byte ranges `[start, end)` of a blob, as a chunked download records what its
 * partial file already holds. Pure: no I/O.
 */

/** `[start, end)`: bytes start..end-1. */
export type ByteRange = readonly [start: number, end: number];

/** Sorts, drops empty or inverted ranges, and joins ranges that touch or overlap. */
export function mergeRanges(ranges: Iterable<ByteRange>): ByteRange[] {
  const sorted = [...ranges].filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [start, end] of sorted) {
    const last = merged.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

/** The ranges of `[0, size)` that `done` does not cover, in order. */
export function missingRanges(done: Iterable<ByteRange>, size: number): ByteRange[] {
  const missing: ByteRange[] = [];
  let at = 0;
  for (const [start, end] of mergeRanges(done)) {
    if (start >= size) break;
    if (start > at) missing.push([at, start]);
    at = Math.max(at, end);
  }
  if (at < size) missing.push([at, size]);
  return missing;
}

/** How many leading bytes `done` covers without a gap. */
export function coveredPrefix(done: Iterable<ByteRange>): number {
  const first = mergeRanges(done)[0];
  return first !== undefined && first[0] === 0 ? first[1] : 0;
}

/** Total bytes in `ranges` (which must not overlap). */
export function totalBytes(ranges: Iterable<ByteRange>): number {
  let sum = 0;
  for (const [start, end] of ranges) sum += end - start;
  return sum;
}

/** Whether `value` is a well-formed range inside `[0, size)`. */
export function isRangeWithin(value: unknown, size: number): value is ByteRange {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    Number.isSafeInteger(value[0]) &&
    Number.isSafeInteger(value[1]) &&
    (value[0] as number) >= 0 &&
    (value[0] as number) < (value[1] as number) &&
    (value[1] as number) <= size
  );
}
