/**
 * Holds a model lease for the life of one HTTP request: a client that goes away aborts the
 * work through the signal, and the lease is released whatever happens.
 */
import type { Request, Response } from 'express';
import type { LoadSpec } from '../../engine/types.js';
import { AppError } from '../../errors.js';
import { disconnectSignal } from './disconnect.js';
import type { InferenceScheduler, Lease } from './inference-deps.js';

/** `X-Preload-Only: true` asks for the model to be loaded and nothing else (docker model run --detach). */
export function isPreloadOnly(req: Request): boolean {
  return req.get('X-Preload-Only')?.trim().toLowerCase() === 'true';
}

/**
 * Preload requests need only the model: Docker's CLI sends them with an empty message list,
 * which a full validation would refuse.
 */
export function parsePreloadBody(body: unknown): { model: string; keepAlive?: string | number } {
  const object = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const { model, keep_alive: keepAlive } = object;
  if (typeof model !== 'string' || model.trim() === '') {
    throw new AppError('bad_request', 'model is required', { data: { param: 'model' } });
  }
  return { model: model.trim(), keepAlive: typeof keepAlive === 'string' || typeof keepAlive === 'number' ? keepAlive : undefined };
}

export interface LeaseScopeOptions {
  /** Hands out the lease. */
  scheduler: InferenceScheduler;
  /** The resolved model to lease. */
  spec: LoadSpec;
  /** The request's keep_alive. Defaults to the model's setting. */
  keepAlive?: string | number;
}

/** Runs `work` with a lease; a preload-only request answers 200 with an empty body once the model is loaded. */
export async function withLease(
  req: Request,
  res: Response,
  options: LeaseScopeOptions,
  work: (lease: Lease, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const disconnect = disconnectSignal(res);
  try {
    const lease = await options.scheduler.acquire(options.spec, { signal: disconnect.signal, keepAlive: options.keepAlive });
    try {
      if (isPreloadOnly(req)) {
        res.status(200).end();
        return;
      }
      await work(lease, disconnect.signal);
    } finally {
      lease.release();
    }
  } finally {
    disconnect.dispose();
  }
}
