/**
 * The engine in a child process of its own (`--isolation process`), forked with advanced
 * serialization so the same structured-clone messages cross the IPC channel. What a Worker
 * cannot offer: a native abort, a segfault or a V8 out-of-memory ends only this child, and a
 * child that hangs (its heartbeats stop) or does not stop in time is killed, which is safe for
 * a separate process. The child's stderr is the server's, so a native crash message shows there.
 */
import { fork } from 'node:child_process';
import { AppError } from '../errors.js';
import { engineChildEnv } from './child-env.js';
import { childNodeFlags, resolveChildScript } from './child-script.js';
import { HEARTBEAT_INTERVAL_MS, type ChildToParent, type ParentToChild } from './protocol.js';
import { SilenceWatchdog } from './silence-watchdog.js';
import type { EngineTransport, TransportOptions } from './transport.js';

/**
 * Silence that counts as a hung engine. The heartbeat comes from the child's event loop, which
 * native work (loading, prompt processing, decoding) does not block; only synchronous JavaScript
 * does (a runaway chat template, a busy loop), so a generous bound costs nothing in normal use.
 */
export const DEFAULT_HANG_TIMEOUT_MS = 120_000;

export interface ProcessTransportOptions extends TransportOptions {
  /** Silence after which the child is killed. Defaults to DEFAULT_HANG_TIMEOUT_MS. */
  hangTimeoutMs?: number;
}

export function startProcessTransport(options: ProcessTransportOptions): EngineTransport {
  const { init, name, logger, events } = options;
  const hangTimeoutMs = options.hangTimeoutMs ?? DEFAULT_HANG_TIMEOUT_MS;
  const script = resolveChildScript('worker/engine-child');
  const child = fork(script.modulePath, [], {
    ...childNodeFlags(script, [], engineChildEnv()),
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let ended = false;
  const kill = () => {
    if (!ended) child.kill('SIGKILL');
  };
  const send = (message: ParentToChild) => {
    // A send that fails means the child is going; its 'close' tells the handle.
    if (!ended && child.connected) child.send(message, undefined, undefined, () => {});
  };
  const watchdog = new SilenceWatchdog(hangTimeoutMs, HEARTBEAT_INTERVAL_MS, () => {
    const seconds = Math.round(hangTimeoutMs / 1000);
    logger.error('model engine process stopped answering; killing it', { model: name, pid: child.pid, hangTimeoutMs });
    events.failure(new AppError('internal', `the engine process of model ${name} stopped answering for ${seconds} s (its event loop is blocked) and was killed`));
    kill();
  });
  const exited = new Promise<void>((resolve) => {
    // 'close', not 'exit': it comes after the last message the child sent, so a load error is not mistaken for a crash.
    child.once('close', (code, signal) => {
      ended = true;
      watchdog.stop();
      events.exit({ code, signal });
      resolve();
    });
  });
  child.on('message', (message: ChildToParent) => {
    watchdog.heard();
    if (message.type !== 'heartbeat') events.message(message);
  });
  child.on('error', (err) => {
    events.failure(new AppError('internal', `the engine process of model ${name} failed: ${err.message}`, { cause: err }));
    // A fork that never started will not close: nothing else would end the handle.
    if (child.pid === undefined && !ended) {
      ended = true;
      watchdog.stop();
      events.exit({ code: null, signal: null });
    }
  });
  send({ type: 'init', init });
  return {
    isolation: 'process',
    noun: 'engine process',
    pid: child.pid,
    exited: child.pid === undefined ? Promise.resolve() : exited,
    post: send,
    abandon: (timeoutMs) => {
      logger.warn('model engine process did not stop in time; killing it', { model: name, pid: child.pid, timeoutMs });
      kill();
    },
  };
}
