import { AppError } from '../errors.js';

/** Docker Model Runner's progress text uses decimal megabytes: "Downloaded: 12.34 MB". */
export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

/**
 * `bytes` in the largest unit it reaches, with two decimals and no space; below one `base` it
 * stays a whole number of bytes. Docker prints both its decimal and its binary sizes this way.
 */
function formatScaledSize(bytes: number, base: number, units: readonly string[]): string {
  let value = bytes;
  let i = 0;
  while (value >= base && i < units.length - 1) {
    value /= base;
    i++;
  }
  return i === 0 ? `${bytes}B` : `${value.toFixed(2)}${units[i]}`;
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** Binary units, as Docker's config `size` field: "256.35MiB". */
export function formatBinarySize(bytes: number): string {
  return formatScaledSize(bytes, 1024, BINARY_UNITS);
}

/** Decimal units, as Docker's CLI prints disk usage and transfer progress: "256.35MB". */
export function formatDecimalSize(bytes: number): string {
  return formatScaledSize(bytes, 1000, DECIMAL_UNITS);
}

/** Parameter counts as Docker writes them: "361.82M", "1.24B", "135.00K". */
export function formatParameterCount(count: number): string {
  if (count >= 1e9) return `${(count / 1e9).toFixed(2)}B`;
  if (count >= 1e6) return `${(count / 1e6).toFixed(2)}M`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(2)}K`;
  return String(count);
}

/**
 * Parses a keep-alive duration as Ollama and Docker Model Runner accept it: a Go duration
 * ("5m", "1h30m", "250ms"), a number of seconds, "0" (unload after use) or a negative value
 * (never unload). Returns milliseconds; negative means forever.
 */
export function parseDurationMs(value: string | number, what = 'duration'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new AppError('bad_request', `invalid ${what}: ${value}`);
    return value < 0 ? -1 : Math.round(value * 1000);
  }
  const text = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return parseDurationMs(Number(text), what);
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const scale: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };
  let total = 0;
  let consumed = 0;
  for (const m of body.matchAll(re)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * scale[m[2]!]!;
    consumed += m[0].length;
  }
  if (consumed !== body.length || body.length === 0) {
    throw new AppError('bad_request', `invalid ${what} "${value}": use a duration such as 5m, 1h, 30s, 0 or -1`);
  }
  return negative ? -1 : Math.round(total);
}
