/**
 * Ends an isolated engine process whose server has died. Normally the IPC channel's
 * 'disconnect' does that, but it is handled on the child's event loop; a child whose loop is
 * blocked (the hang the server's watchdog would have killed) would otherwise outlive its server,
 * holding a core and the model's memory. So a tiny Worker, whose own loop is free, watches for
 * the child being re-parented and kills it.
 */
import { Worker } from 'node:worker_threads';

/** How often the guard looks at the parent id. */
const CHECK_INTERVAL_MS = 1_000;

// Plain CommonJS evaluated in the Worker: it needs no loader and no project code.
const GUARD_CODE = `
const { workerData } = require('node:worker_threads');
setInterval(() => {
  if (process.ppid !== workerData.ppid) process.kill(workerData.pid, 'SIGKILL');
}, workerData.intervalMs);
`;

/** Starts the guard; it never keeps the process alive on its own. */
export function guardAgainstOrphaning(): void {
  const guard = new Worker(GUARD_CODE, {
    eval: true,
    workerData: { ppid: process.ppid, pid: process.pid, intervalMs: CHECK_INTERVAL_MS },
    name: 'orphan guard',
    // Its whole heap is one interval; keep the reservation small.
    resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 },
  });
  guard.unref();
}
