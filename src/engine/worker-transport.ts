/**
 * The engine in a worker_threads Worker of this process. Cheap to start and to talk to, but a
 * native abort in it ends the whole server, and it is never terminated: terminating during a
 * native call aborts the process, so a Worker that does not stop in time is left to finish.
 */
import { AppError } from '../errors.js';
import type { EngineStart, WorkerInit, WorkerToMain } from './protocol.js';
import { FirstIdle } from './first-idle.js';
import { EngineWorkers } from './spare-worker.js';
import type { EngineTransport, TransportOptions } from './transport.js';

/** For handles made without a factory's Workers (tests, tools): a new Worker each time, no spare. */
const UNSHARED = new EngineWorkers(false);

export interface WorkerTransportOptions extends TransportOptions {
  /** Where the Worker comes from (the server keeps a spare). Defaults to a new Worker. */
  workers?: EngineWorkers;
}

export function startWorkerTransport({ init, name, logger, events, workers = UNSHARED }: WorkerTransportOptions): EngineTransport {
  const { worker, early } = workers.take(engineStartOf(init), name);
  worker.ref();
  let ended = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  // The next spare starts once this engine is first idle, so that it leaves the cores to the request that waited on this load.
  const firstIdle = new FirstIdle(() => workers.prepare(engineStartOf(init)));
  worker.on('message', (m: WorkerToMain) => {
    firstIdle.received(m);
    events.message(m);
  });
  worker.on('error', (err) => events.failure(new AppError('internal', `the worker of model ${name} failed: ${err.message}`, { cause: err })));
  worker.on('exit', (code) => {
    ended = true;
    events.exit({ code, signal: null });
  });
  for (const message of early) events.message(message);
  worker.postMessage({ type: 'init', init });
  return {
    isolation: 'thread',
    noun: 'worker',
    pid: undefined,
    exited,
    post: (message) => {
      if (ended) return;
      firstIdle.sent(message);
      worker.postMessage(message);
    },
    abandon: (timeoutMs) => {
      // Terminating now could abort the process mid native call; leave the thread to finish.
      logger.warn('model worker did not stop in time; leaving it to finish', { model: name, timeoutMs });
      worker.unref();
    },
  };
}

function engineStartOf(init: WorkerInit): EngineStart {
  return { gpu: init.gpu, threads: init.threads, unifiedKv: init.unifiedKv };
}
