/**
 * The accepted range of each numeric runtime setting, whichever door it comes through: `serve`
 * flags, the `configure` command, POST /engines/_configure (fields and runtime flags) and
 * Ollama's options.num_ctx. One table, so that no door is wider than another: a context size
 * of 10^12 is refused the same way everywhere instead of reaching the engine's allocator.
 */
import { AppError } from '../errors.js';

export interface IntegerBounds {
  readonly min: number;
  readonly max: number;
}

export const RUNTIME_BOUNDS = {
  /** Tokens per sequence: below 64 nothing useful fits; 4Mi tokens is past any model's training. */
  contextSize: { min: 64, max: 1 << 22 },
  /** Sequences decoded together per model. */
  parallel: { min: 1, max: 64 },
  /** CPU threads. */
  threads: { min: 1, max: 1024 },
  /** Tokens per decode batch; larger than any context is meaningless. */
  batchSize: { min: 1, max: 1 << 22 },
} as const satisfies Record<string, IntegerBounds>;

export type BoundedSetting = keyof typeof RUNTIME_BOUNDS;

/** "an integer from 64 to 4194304", for messages and help text. */
export function describeBounds(setting: BoundedSetting): string {
  const { min, max } = RUNTIME_BOUNDS[setting];
  return `an integer from ${min} to ${max}`;
}

/**
 * `value` as a number when it is an integer inside the setting's range, else undefined. A string
 * of decimal digits counts, since flags arrive as text.
 */
export function parseRuntimeInteger(setting: BoundedSetting, value: unknown): number | undefined {
  const n = typeof value === 'string' && /^[+-]?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  const { min, max } = RUNTIME_BOUNDS[setting];
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}

/** Like parseRuntimeInteger, but a value out of range is a bad_request naming `name` (also its `param`) and the range. */
export function checkRuntimeInteger(setting: BoundedSetting, value: unknown, name: string): number {
  const n = parseRuntimeInteger(setting, value);
  if (n === undefined) {
    const got = value === undefined ? 'nothing' : JSON.stringify(value);
    throw new AppError('bad_request', `${name} must be ${describeBounds(setting)}, got ${got}`, { data: { param: name } });
  }
  return n;
}
