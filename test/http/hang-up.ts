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
