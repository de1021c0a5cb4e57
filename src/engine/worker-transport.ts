/**
 * The engine in a worker_threads Worker of this process. Cheap to start and to talk to, but a
 * native abort in it ends the whole server, and it is never terminated: terminating during a
 * native call aborts the process, so a Worker that does not stop in time is left to finish.
 */
import { Worker } from 'node:worker_threads';
import { AppError } from '../errors.js';
import type { WorkerToMain } from './protocol.js';
import type { EngineTransport, TransportOptions } from './transport.js';
import { resolveWorkerScript } from './worker-script.js';

export function startWorkerTransport({ init, name, logger, events }: TransportOptions): EngineTransport {
  const script = resolveWorkerScript();
  const worker = new Worker(script.entry, { eval: script.eval, workerData: init, name: `model ${name}` });
  let ended = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('message', (m: WorkerToMain) => events.message(m));
  worker.on('error', (err) => events.failure(new AppError('internal', `the worker of model ${name} failed: ${err.message}`, { cause: err })));
  worker.on('exit', (code) => {
    ended = true;
    events.exit({ code, signal: null });
  });
  return {
    isolation: 'thread',
    noun: 'worker',
    pid: undefined,
    exited,
    post: (message) => {
      if (!ended) worker.postMessage(message);
    },
    abandon: (timeoutMs) => {
      // Terminating now could abort the process mid native call; leave the thread to finish.
      logger.warn('model worker did not stop in time; leaving it to finish', { model: name, timeoutMs });
      worker.unref();
    },
  };
}
