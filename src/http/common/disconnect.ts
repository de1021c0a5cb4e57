/**
 * The one abort-on-disconnect: a signal that aborts when the client goes away before its response
 * is complete. 'close' also fires after a normal end, so only an unfinished response counts.
 */
import type { Response } from 'express';
import { AppError } from '../../errors.js';

export interface DisconnectSignal {
  signal: AbortSignal;
  /** Stops watching (the work is over); the signal stays as it is. */
  dispose(): void;
}

export function disconnectSignal(res: Response): DisconnectSignal {
  const controller = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) controller.abort(new AppError('aborted', 'the client closed the connection'));
  };
  res.on('close', onClose);
  return { signal: controller.signal, dispose: () => res.off('close', onClose) };
}
