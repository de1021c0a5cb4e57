/**
 * Worker entry. The Worker starts its engine at once (node-llama-cpp's import and binding load are
 * most of a small model's cold start) and learns its model from the first message, an 'init'.
 * So the main thread can keep one Worker started ahead of need (engine/spare-worker.ts) and give
 * it to the next model; while it waits, it rehearses a load and a chat on a tiny model of its own
 * (rehearsal.ts), and it may be told which model file is likely next and read its header ahead
 * (gguf-read-ahead.ts). It then serves that model (serve-engine.ts) over parentPort. The main
 * thread never terminates this Worker: terminating during a native call aborts the process, so
 * the Worker ends by itself once the engine closes the port.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EngineStart, MainToWorker, ParentToChild } from '../protocol.js';
import { readAhead } from './gguf-read-ahead.js';
import { startEngine, type LogSink } from './load.js';
import { rehearse } from './rehearsal.js';
import { skipResourceSimulationOnCpu } from './resource-simulation.js';
import { serveEngine, type ServingEngine } from './serve-engine.js';

if (!parentPort) throw new Error('src/engine/worker/main.ts runs only as a worker_threads Worker');
const port = parentPort;
const start = workerData as EngineStart;

const log: LogSink = (level, message) => port.postMessage({ type: 'log', level, message });
skipResourceSimulationOnCpu((message) => log('warn', message));
const started = startEngine(start, log);
let engineUp = false;
started.then(
  () => (engineUp = true),
  // A failed start is reported by the load that needs it; a spare nobody takes must not crash on it.
  () => {},
);
// Called off when a model is named: that load must not share the cores with it.
const rehearsal = new AbortController();
/** The engine, once it is up and has rehearsed (or its rehearsal was called off): what a load waits for. */
const engine = started.then(async (e) => {
  await rehearse(e, start, log, rehearsal.signal);
  return e;
});
engine.then(
  () => port.postMessage({ type: 'engine-ready' }),
  () => {},
);

let serving: ServingEngine | undefined;
let listener: ((message: MainToWorker) => void) | undefined;
port.on('message', (message: ParentToChild) => {
  if (message.type === 'init') {
    rehearsal.abort();
    const ahead = engineUp;
    serving ??= serveEngine(message.init, { post: (m) => port.postMessage(m), onMessage: (l) => (listener = l), close: () => port.close() }, engine, ahead);
    return;
  }
  if (message.type === 'read-ahead') {
    if (!serving) void readAhead(message.modelPath);
    return;
  }
  if (serving) return listener?.(message);
  // A spare stopped before it had a model: release the engine and end.
  if (message.type === 'shutdown') {
    rehearsal.abort();
    void engine
      .then((e) => e.llama.dispose())
      .catch(() => {})
      .finally(() => port.close());
  }
});
