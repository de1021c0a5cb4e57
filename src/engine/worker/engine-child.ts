/**
 * Child-process entry (`--isolation process`): serves one model (serve-engine.ts) over the IPC
 * channel of a fork with advanced serialization. The parent sends {type: 'init'} first; the
 * engine then speaks the Worker protocol. A heartbeat from this event loop lets the parent tell
 * a blocked loop from a quiet one and kill this process, which, unlike a Worker, is safe.
 */
import type { ChildToParent, MainToWorker, ParentToChild } from '../protocol.js';
import { HEARTBEAT_INTERVAL_MS } from '../protocol.js';
import { guardAgainstOrphaning } from './orphan-guard.js';
import { skipResourceSimulationOnCpu } from './resource-simulation.js';
import { serveEngine, type ServingEngine } from './serve-engine.js';

/** How long a closed child may linger (a handle nobody released) before it exits on its own. */
const EXIT_GRACE_MS = 5_000;

if (!process.send) throw new Error('src/engine/worker/engine-child.ts runs only as a forked child process');

const send = (message: ChildToParent) => {
  // After the parent has gone, messages have nowhere to go; the callback keeps send errors from becoming uncaught.
  if (process.connected) process.send!(message, undefined, undefined, () => {});
};
guardAgainstOrphaning();
skipResourceSimulationOnCpu((message) => send({ type: 'log', level: 'warn', message }));
const heartbeat = setInterval(() => send({ type: 'heartbeat' }), HEARTBEAT_INTERVAL_MS);
let listener: ((message: MainToWorker) => void) | undefined;
let engine: ServingEngine | undefined;

process.on('message', (message: ParentToChild) => {
  // A child is never a spare: nothing is read ahead in it.
  if (message.type === 'read-ahead') return;
  if (message.type !== 'init') return listener?.(message);
  engine ??= serveEngine(message.init, {
    post: send,
    onMessage: (l) => (listener = l),
    close: () => {
      clearInterval(heartbeat);
      if (process.connected) process.disconnect();
      setTimeout(() => process.exit(0), EXIT_GRACE_MS).unref();
    },
  });
});

const stop = () => (engine ? void engine.shutdown() : process.exit(0));
// The parent has gone (it crashed or was killed): release the model and end.
process.on('disconnect', stop);
// A terminal's Ctrl+C reaches the whole process group; the server drains and then stops its
// engines itself, so the child must not die under requests it is still finishing.
process.on('SIGINT', () => {});
process.on('SIGTERM', stop);
