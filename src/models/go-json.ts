/**
 * JSON and time spelled the way Go's encoding/json writes them. Docker's packager is written in Go,
 * and a model's ID is the sha256 of its manifest bytes, so an artifact packaged here hashes like
 * Docker's only when every byte matches: key order, HTML escaping and timestamp format included.
 */

const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * JSON.stringify with Go's HTML-safe escaping of `<`, `>`, `&`, U+2028 and U+2029. Those characters
 * can only occur inside string literals, so replacing them in the whole text is exact. Key order is
 * the caller's: build objects in Go's struct field order and sort map keys before calling.
 */
export function goJsonStringify(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]!);
}

/** Keys sorted by code unit, as Go sorts map[string]string keys when encoding. */
export function sortedRecord(record: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(record).sort()) out[key] = record[key]!;
  return out;
}

/**
 * Go's time.Time JSON form (RFC 3339 with nanoseconds, trailing zeros trimmed) in UTC.
 * `extraNanos` carries sub-millisecond precision (from a bigint stat) that a Date cannot hold.
 */
export function formatRfc3339(date: Date, extraNanos = 0): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('invalid date');
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const base = iso.slice(0, 19);
  const nanos = date.getUTCMilliseconds() * 1_000_000 + extraNanos;
  if (nanos === 0) return `${base}Z`;
  const fraction = String(nanos).padStart(9, '0').replace(/0+$/, '');
  return `${base}.${fraction}Z`;
}
