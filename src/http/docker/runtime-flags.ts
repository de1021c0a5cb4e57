/**
 * llama.cpp runtime flags accepted by `_configure`. Only flags we can honour in-process are
 * allowed, each mapped onto a RuntimeSettings field; anything else is refused by name rather
 * than silently ignored. Paths are never accepted: no '/' or '\' anywhere in a flag.
 */
import type { RuntimeSettings } from '../../engine/types.js';
import { AppError } from '../../errors.js';
import { describeBounds, parseRuntimeInteger } from '../../util/runtime-bounds.js';

type NumericSetting = 'contextSize' | 'parallel' | 'threads' | 'batchSize';

/** Flags that take an integer (bounded by RUNTIME_BOUNDS), in both spellings llama-server accepts. */
const NUMERIC_FLAGS: Record<string, NumericSetting> = {
  '--ctx-size': 'contextSize',
  '-c': 'contextSize',
  '--parallel': 'parallel',
  '-np': 'parallel',
  '--threads': 'threads',
  '-t': 'threads',
  '--batch-size': 'batchSize',
  '-b': 'batchSize',
};

const FLASH_ATTN_FLAG = '--flash-attn';
/** Values llama-server's --flash-attn takes; 'auto' leaves the choice to the engine. */
const FLASH_ATTN_VALUES: Record<string, boolean | undefined> = { on: true, true: true, '1': true, off: false, false: false, '0': false, auto: undefined };

export const ALLOWED_RUNTIME_FLAGS = [...Object.keys(NUMERIC_FLAGS), FLASH_ATTN_FLAG];

function refuse(flag: string, why: string): AppError {
  return new AppError('bad_request', `runtime flag "${flag}" is not allowed: ${why}`, { data: { param: 'runtime-flags' } });
}

/** Splits raw-runtime-flags like a shell would for simple cases: whitespace, single and double quotes. */
export function splitRawFlags(raw: string): string[] {
  const tokens: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const match of raw.matchAll(re)) tokens.push(match[1] ?? match[2] ?? match[3]!);
  return tokens;
}

function parseBoundedInteger(flag: string, setting: NumericSetting, value: string | undefined): number {
  const n = parseRuntimeInteger(setting, value);
  if (n === undefined) throw refuse(flag, `expected ${describeBounds(setting)}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
  return n;
}

/** Turns a flag list into the settings it names. */
export function parseRuntimeFlags(flags: string[]): RuntimeSettings {
  for (const flag of flags) {
    if (flag.includes('/') || flag.includes('\\')) throw refuse(flag, 'paths are not accepted');
  }
  const settings: RuntimeSettings = {};
  for (let i = 0; i < flags.length; i++) {
    const token = flags[i]!;
    const eq = token.indexOf('=');
    const name = eq > 0 ? token.slice(0, eq) : token;
    const inline = eq > 0 ? token.slice(eq + 1) : undefined;
    const setting = NUMERIC_FLAGS[name];
    if (setting) {
      settings[setting] = parseBoundedInteger(name, setting, inline ?? flags[++i]);
      continue;
    }
    if (name === FLASH_ATTN_FLAG) {
      const next = (inline ?? flags[i + 1])?.toLowerCase();
      if (next !== undefined && next in FLASH_ATTN_VALUES) {
        if (inline === undefined) i++;
        const value = FLASH_ATTN_VALUES[next];
        if (value === undefined) delete settings.flashAttention;
        else settings.flashAttention = value;
      } else if (inline !== undefined) {
        throw refuse(token, 'expected on, off or auto');
      } else {
        settings.flashAttention = true;
      }
      continue;
    }
    throw refuse(token, `allowed flags are ${ALLOWED_RUNTIME_FLAGS.join(', ')}`);
  }
  return settings;
}

/** The flags equivalent to stored settings, for GET /engines/_configure. */
export function toRuntimeFlags(settings: RuntimeSettings): string[] {
  const flags: string[] = [];
  if (settings.threads !== undefined) flags.push('--threads', String(settings.threads));
  if (settings.batchSize !== undefined) flags.push('--batch-size', String(settings.batchSize));
  if (settings.flashAttention !== undefined) flags.push(FLASH_ATTN_FLAG, settings.flashAttention ? 'on' : 'off');
  return flags;
}
