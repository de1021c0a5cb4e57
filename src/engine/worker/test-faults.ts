/**
 * Test switch, off in production: with MODEL_RUNNER_TEST_FAULTS=1 in the environment, a
 * generation whose stop strings include one of the markers below misbehaves after its second
 * token. Integration tests use them to prove that a failing engine fails only its own requests
 * and that the server stays up and loads a fresh one.
 */
import { isMainThread } from 'node:worker_threads';

/** Throws an uncaught exception (any isolation). */
export const FAULT_MARKER = '__fault_throw__';
/** Calls process.abort(), like a llama.cpp assertion; only in an isolated child process. */
export const ABORT_FAULT_MARKER = '__fault_abort__';
/** Blocks the event loop forever; only in an isolated child process. */
export const HANG_FAULT_MARKER = '__fault_hang__';
/** Printed to stderr just before the hang begins. */
export const HANG_FAULT_NOTICE = 'injected test fault: the event loop hangs now';
export const TEST_FAULTS_ENV = 'MODEL_RUNNER_TEST_FAULTS';

const enabled = process.env[TEST_FAULTS_ENV] === '1';

export function maybeInjectFault(stops: readonly string[], generatedTokens: number): void {
  if (!enabled || generatedTokens !== 2) return;
  if (stops.includes(FAULT_MARKER)) {
    // Thrown from a fresh macrotask so it is uncaught, like a real bug outside the request's promise chain.
    setImmediate(() => {
      throw new Error('injected test fault (MODEL_RUNNER_TEST_FAULTS)');
    });
  }
  // In a Worker these would take down (or hang) the whole server and its test run, which is the
  // very thing process isolation exists to prevent; there they do nothing.
  if (!isMainThread) return;
  if (stops.includes(ABORT_FAULT_MARKER)) process.abort();
  if (stops.includes(HANG_FAULT_MARKER)) {
    // stderr is a pipe or a terminal here, written synchronously: tests see this line once the loop is stuck.
    process.stderr.write(`${HANG_FAULT_NOTICE}\n`);
    for (;;);
  }
}

/** A model whose general.name is this hangs the admission check's child (tests of its timeout). */
export const HANG_MODEL_NAME = '__fault_hang__';

export function maybeHangAdmission(modelName: unknown): void {
  if (!enabled || modelName !== HANG_MODEL_NAME) return;
  // Blocks the event loop for good, as a template or native call that never returns would.
  for (;;);
}
