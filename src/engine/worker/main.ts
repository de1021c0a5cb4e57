/**
 * Worker entry: serves one model (serve-engine.ts) over parentPort, loading from `workerData`
 * (WorkerInit). The main thread never terminates this Worker: terminating during a native call
 * aborts the process, so the Worker ends by itself once the engine closes the port.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MainToWorker, WorkerInit } from '../protocol.js';
import { serveEngine } from './serve-engine.js';

if (!parentPort) throw new Error('src/engine/worker/main.ts runs only as a worker_threads Worker');
const port = parentPort;

serveEngine(workerData as WorkerInit, {
  post: (message) => port.postMessage(message),
  onMessage: (listener) => port.on('message', (message: MainToWorker) => listener(message)),
  close: () => port.close(),
});
