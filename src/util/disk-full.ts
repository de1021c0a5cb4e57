/**
 * Whether an error (or any error in its `cause` chain) is the file system saying it is full.
 * Writers wrap system errors in AppErrors on their way up, so the errno may sit a few causes deep.
 */
import { getSystemErrorMap } from 'node:util';

/** Errno codes that mean "no room": the device is full, or the user's quota is. */
const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT']);
/** Cause chains are short; a cycle must not loop forever. */
const MAX_CAUSE_DEPTH = 8;

export function isDiskFull(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
    if (DISK_FULL_CODES.has((current as NodeJS.ErrnoException).code ?? '')) return true;
    if ((current as { code?: unknown }).code === 'insufficient_storage') return true;
    current = current.cause;
  }
  return false;
}

/**
 * A system error as "ENOSPC: no space left on device", without the path Node appends to its
 * message: errors that reach API clients name what was being written, never where it lives.
 */
export function systemErrorText(error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  if (typeof err?.errno === 'number') {
    const known = getSystemErrorMap().get(err.errno);
    if (known) return `${known[0]}: ${known[1]}`;
  }
  if (typeof err?.code === 'string' && typeof err.syscall === 'string') return `${err.code} (${err.syscall})`;
  return err instanceof Error ? err.message : String(error);
}
