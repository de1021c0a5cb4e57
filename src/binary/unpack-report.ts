/** The one stderr line the binary prints when a start had to write files; silence when it reused them all. */
import { formatMegabytes } from '../util/units.js';
import type { EnsureRuntimeResult } from './unpack.js';

/** Files named in the line when some were replaced; past this, a count. */
const NAMED_FILES = 3;

export function describeUnpack(dir: string, result: EnsureRuntimeResult, millis: number): string | undefined {
  const took = `${Math.round(millis)} ms`;
  if (result.unpacked) return `model-runner: unpacked its runtime files (${formatMegabytes(result.bytesWritten)}) to ${dir} in ${took}`;
  if (result.replaced.length === 0) return undefined;
  const named = result.replaced.slice(0, NAMED_FILES).join(', ');
  const more = result.replaced.length > NAMED_FILES ? ` and ${result.replaced.length - NAMED_FILES} more` : '';
  return `model-runner: replaced ${result.replaced.length} runtime file(s) in ${dir} that were missing or did not match their hash (${named}${more}) in ${took}`;
}
