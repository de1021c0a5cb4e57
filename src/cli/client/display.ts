/** Text helpers for command output: model names, IDs, tables and relative times (sizes live in util/units.ts). */

/**
 * The name as Docker's CLI shows it: the default registry, the `ai/` namespace and the
 * `:latest` tag are implied, so "docker.io/ai/smollm2:latest" shows as "smollm2".
 */
export function displayModelName(name: string): string {
  let shown = name;
  for (const prefix of ['index.docker.io/', 'registry-1.docker.io/', 'docker.io/']) {
    if (shown.startsWith(prefix)) {
      shown = shown.slice(prefix.length);
      break;
    }
  }
  if (shown.startsWith('ai/')) shown = shown.slice('ai/'.length);
  if (shown.endsWith(':latest')) shown = shown.slice(0, -':latest'.length);
  return shown;
}

/** The 12 hex characters Docker shows for a "sha256:<64 hex>" ID. */
export function shortId(id: string): string {
  const hex = id.startsWith('sha256:') ? id.slice('sha256:'.length) : id;
  return hex.slice(0, 12);
}

/**
 * Left-aligned columns separated by three spaces (the width docker's tables use), without
 * trailing spaces. Every row should have as many cells as `headers`.
 */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  return [headers, ...rows].map(line).join('\n') + '\n';
}

/** Go's units.HumanDuration, which Docker's CLIs use for "CREATED" and "UNTIL" columns. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** "3 days ago" for a past time, "4 minutes from now" for a future one. `now` defaults to the clock. */
export function formatRelativeTime(whenMs: number, nowMs: number = Date.now()): string {
  const delta = nowMs - whenMs;
  return delta >= 0 ? `${humanDuration(delta)} ago` : `${humanDuration(-delta)} from now`;
}
