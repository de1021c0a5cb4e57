/**
 * The one way streamed responses (SSE, NDJSON, progress lines) write: with backpressure, and with
 * a limit on how long a full socket may stay full. A client that stops reading without closing
 * would otherwise hold its generation, and the model slot under it, for as long as it likes; once
 * the write stall timeout passes, the response is destroyed, its 'close' aborts the work behind
 * it (the lease scope and pull handlers listen for that) and the slot is free again.
 */
import type { Express, Response } from 'express';
import { DEFAULT_WRITE_STALL_TIMEOUT_MS } from '../../config.js';

/** Where createApp keeps the server's setting, so that every writer of that app finds it. */
const STALL_TIMEOUT_KEY = 'writeStallTimeoutMs';

export function setWriteStallTimeout(app: Express, timeoutMs: number): void {
  app.locals[STALL_TIMEOUT_KEY] = timeoutMs;
}

function writeStallTimeoutOf(res: Response): number {
  const value: unknown = res.app?.locals[STALL_TIMEOUT_KEY];
  return typeof value === 'number' && value > 0 ? value : DEFAULT_WRITE_STALL_TIMEOUT_MS;
}

/** One pending wait per response, however many writers are waiting on it. */
const pendingDrains = new WeakMap<Response, Promise<void>>();

/** Resolves when the response can take more data or closed; destroys it if neither happens in time. */
function whenDrained(res: Response): Promise<void> {
  const pending = pendingDrains.get(res);
  if (pending) return pending;
  const drained = new Promise<void>((resolve) => {
    const timer = setTimeout(() => res.destroy(), writeStallTimeoutOf(res));
    const done = () => {
      clearTimeout(timer);
      res.off('drain', done);
      res.off('close', done);
      pendingDrains.delete(res);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
  pendingDrains.set(res, drained);
  return drained;
}

/**
 * Writes `chunk` and resolves once the socket can take more (at once when it already can). Writers
 * that await it pace themselves to the client; those that do not (progress callbacks) are still
 * covered by the stall limit. Nothing is written to an ended or destroyed response.
 */
export function writeChunk(res: Response, chunk: string): Promise<void> {
  if (res.writableEnded || res.destroyed) return Promise.resolve();
  return res.write(chunk) ? Promise.resolve() : whenDrained(res);
}
