/** Clients that go away mid-request: the routers must abort the work and release what they hold. */
import http from 'node:http';
import type { ScriptedDeps } from './scripted-deps.js';

/**
 * POSTs `body` as JSON and reads whatever answer comes, ignoring the errors that destroying the
 * request later causes on either side. The caller hangs up with `destroy()`.
 */
export function postToAbandon(socketPath: string, urlPath: string, body: unknown): http.ClientRequest {
  const req = http.request({ socketPath, path: urlPath, method: 'POST', headers: { 'Content-Type': 'application/json' } });
  req.on('error', () => undefined);
  req.on('response', (res) => res.on('error', () => undefined).resume());
  req.end(JSON.stringify(body));
  return req;
}

export interface HangUp {
  /** Whether the generation's signal had aborted before the client hung up. */
  abortedBeforeHangUp: boolean;
  /** The generation's signal, read after the lease was released. */
  signal: AbortSignal;
}

/**
 * Starts a generation whose script hangs (`hang: true`), hangs up once it is waiting, and
 * resolves when the lease has been released.
 */
export async function hangUpDuringGeneration(t: ScriptedDeps & { socketPath: string }, urlPath: string, body: unknown): Promise<HangUp> {
  const released = t.nextRelease();
  const req = postToAbandon(t.socketPath, urlPath, body);
  const signal = await t.session.hanging;
  const abortedBeforeHangUp = signal.aborted;
  req.destroy();
  await released;
  return { abortedBeforeHangUp, signal };
}

export interface StoppedReading {
  /** The generation's signal, read after the lease was released. */
  signal: AbortSignal;
  /**
   * Reads again and resolves once the connection is gone, with whether the response had been
   * completed. (A paused socket cannot notice that the server closed it until it reads.)
   */
  resumeUntilClosed(): Promise<{ complete: boolean }>;
}

/**
 * Starts a streamed generation whose script yields more than the socket buffers hold and then
 * hangs, and stops reading the response without closing the connection (a stalled client).
 * Resolves when the lease has been released, which only the server's write stall limit can cause.
 */
export async function stopReadingDuringGeneration(t: ScriptedDeps & { socketPath: string }, urlPath: string, body: unknown): Promise<StoppedReading> {
  const released = t.nextRelease();
  const req = http.request({ socketPath: t.socketPath, path: urlPath, method: 'POST', headers: { 'Content-Type': 'application/json' } });
  req.on('error', () => undefined);
  const response = new Promise<http.IncomingMessage>((resolve) => {
    req.on('response', (res) => {
      res.on('error', () => undefined);
      // Never read: Node stops reading the socket once this stream's buffer is full.
      res.pause();
      resolve(res);
    });
  });
  req.end(JSON.stringify(body));
  await released;
  const res = await response;
  return {
    signal: t.session.signals[0]!,
    resumeUntilClosed: () =>
      new Promise((resolve) => {
        res.socket.once('close', () => resolve({ complete: res.complete }));
        res.resume();
      }),
  };
}
