/**
 * How every writer of the models layer (pull, tar load, package) reports a disk that filled up
 * under it: the same 507 shape as the check before writing, naming the model and the blob, while
 * the system error with its path goes to the server log only.
 */
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ModelStore } from '../store/types.js';
import { isDiskFull } from '../util/disk-full.js';

/** Tags a disk-full failure with the blob being written; other errors pass through unchanged. */
export function markDiskFull(err: unknown, digest: string): unknown {
  if (!isDiskFull(err) || diskFullDigest(err) !== undefined) return err;
  return new AppError('insufficient_storage', `the disk is full while blob ${digest} is being written`, { cause: err, data: { digest } });
}

function diskFullDigest(err: unknown): string | undefined {
  const digest = err instanceof AppError ? err.data?.digest : undefined;
  return typeof digest === 'string' ? digest : undefined;
}

/** The innermost cause's message: the system error as Node wrote it, path included, for the log. */
function innermostMessage(err: unknown): string {
  let current = err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

/**
 * The 507 for `what` ("pull ai/x", "load the uploaded model") after the caller removed what it had
 * written; `neededBytes` is what it would take now.
 */
export async function diskFilledUp(store: ModelStore, logger: Logger, what: string, neededBytes: number, err: unknown): Promise<AppError> {
  const digest = diskFullDigest(err);
  logger.warn('the disk filled up; what the operation had written was removed', { operation: what, digest, error: innermostMessage(err) });
  const where = digest === undefined ? '' : ` while blob ${digest} was being written`;
  return store.insufficientStorage(`${what} (the disk filled up${where}; what had been written was removed)`, neededBytes, err);
}
