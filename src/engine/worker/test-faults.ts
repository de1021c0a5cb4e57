/**
 * Test switch, off in production: with MODEL_RUNNER_TEST_FAULTS=1 in the environment, a
 * generation whose stop strings include one of the markers below misbehaves after its second
 * token that sent text (so its answer has surely started: a token of no text, or one held back,
 * would leave a stream that has not even sent its status). Integration tests use them to prove that a failing engine fails only its own requests
 * and that the server stays up and loads a fresh one.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import type { TokenBarrier } from './batch-barrier.js';

/** Throws an uncaught exception (any isolation). */
export const FAULT_MARKER = '__fault_throw__';
/** Calls process.abort(), like a llama.cpp assertion; only in an isolated child process. */
export const ABORT_FAULT_MARKER = '__fault_abort__';
/** Blocks the event loop forever; only in an isolated child process. */
export const HANG_FAULT_MARKER = '__fault_hang__';
/** Ends the engine's thread (or process) with exit code EXIT_FAULT_CODE, as a native crash in a Worker's own code would. */
export const EXIT_FAULT_MARKER = '__fault_exit__';
export const EXIT_FAULT_CODE = 7;
/**
 * Throws where the engine's own uncaught-exception handler cannot see it, so that the Worker
 * itself emits 'error' (as a Worker out of memory does) and then exits.
 */
export const ERROR_FAULT_MARKER = '__fault_error__';
/**
 * `${HOLD_FAULT_PREFIX}<path>` as a stop string: after its second token the generation blocks its
 * engine's whole thread, as a native call that does not return would, until a file exists at
 * <path>. Tests create the file to let it go on, so they can act while a generation is surely
 * in flight and see what an engine that cannot stop in time does; heldMarker(<path>) appears
 * once the thread is blocked.
 */
export const HOLD_FAULT_PREFIX = '__fault_hold__:';
/**
 * After its second token the generation waits, its thread free, until it is cancelled: it can
 * end only by a cancel that works, so a test that needs one fails (by its timeout) without it.
 */
export const AWAIT_CANCEL_FAULT_MARKER = '__fault_await_cancel__';
/** Printed to stderr just before the hang begins. */
export const HANG_FAULT_NOTICE = 'injected test fault: the event loop hangs now';
export const TEST_FAULTS_ENV = 'MODEL_RUNNER_TEST_FAULTS';

const enabled = process.env[TEST_FAULTS_ENV] === '1';

const MARKERS = [FAULT_MARKER, ABORT_FAULT_MARKER, HANG_FAULT_MARKER, EXIT_FAULT_MARKER, ERROR_FAULT_MARKER, AWAIT_CANCEL_FAULT_MARKER];

/**
 * The stop strings that are text to stop at. The markers ride in the stop list but are not: as
 * stop strings they would hold back text that begins like one (a "_"), and a held request whose
 * first tokens were held back would never have started its answer.
 */
export function withoutFaultMarkers(stops: readonly string[]): string[] {
  if (!enabled) return [...stops];
  return stops.filter((s) => !MARKERS.includes(s) && !s.startsWith(HOLD_FAULT_PREFIX));
}

export function maybeInjectFault(stops: readonly string[], textTokens: number): void {
  if (!enabled || textTokens !== 2) return;
  if (stops.includes(FAULT_MARKER)) {
    // Thrown from a fresh macrotask so it is uncaught, like a real bug outside the request's promise chain.
    setImmediate(() => {
      throw new Error('injected test fault (MODEL_RUNNER_TEST_FAULTS)');
    });
  }
  if (stops.includes(EXIT_FAULT_MARKER)) process.exit(EXIT_FAULT_CODE);
  if (stops.includes(ERROR_FAULT_MARKER)) {
    setImmediate(() => {
      // Without the engine's handler the exception reaches the Worker, which emits 'error' and ends.
      process.removeAllListeners('uncaughtException');
      throw new Error('injected test fault: an error the engine did not catch');
    });
  }
  const hold = stops.find((s) => s.startsWith(HOLD_FAULT_PREFIX));
  if (hold !== undefined) holdUntilExists(hold.slice(HOLD_FAULT_PREFIX.length));
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

/** The barrier a token loop passes between tokens; with AWAIT_CANCEL_FAULT_MARKER, one that holds it after its second token until `signal` aborts. */
export function withTestFaults(barrier: TokenBarrier, stops: readonly string[], signal: AbortSignal): TokenBarrier {
  if (!enabled || !stops.includes(AWAIT_CANCEL_FAULT_MARKER)) return barrier;
  let arrivals = 0;
  return {
    join: (order) => barrier.join(order),
    leave: () => barrier.leave(),
    arrive: async (order) => {
      if (++arrivals === 2 && !signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      return barrier.arrive(order);
    },
  };
}

/** Blocks this thread (no event loop turns) until `file` exists; says so with heldMarker(file) first. */
function holdUntilExists(file: string): void {
  writeFileSync(heldMarker(file), '');
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  // Polled, because nothing can wake a thread that must not run its event loop.
  while (!existsSync(file)) Atomics.wait(sleeper, 0, 0, 10);
}

/**
 * A model whose general.name is `${HOLD_LOAD_PREFIX}<path>` holds its engine's load, once
 * llama.cpp has loaded it, until a file exists at <path> (the admission check is not held): tests
 * act while a load is surely under way (heldMarker(<path>) appears once it is held).
 */
export const HOLD_LOAD_PREFIX = '__fault_hold_load__:';

/**
 * The file a hold writes as it begins, beside its release file: a test that waits for it acts
 * once the engine is surely inside the hold, its thread blocked, with nothing but the release
 * able to move it on.
 */
export function heldMarker(releaseFile: string): string {
  return `${releaseFile}.held`;
}

export function maybeHoldLoad(modelName: unknown): void {
  if (!enabled || typeof modelName !== 'string' || !modelName.startsWith(HOLD_LOAD_PREFIX)) return;
  holdUntilExists(modelName.slice(HOLD_LOAD_PREFIX.length));
}

/** A model whose general.name is this hangs the admission check's child (tests of its timeout). */
export const HANG_MODEL_NAME = '__fault_hang__';

export function maybeHangAdmission(modelName: unknown): void {
  if (!enabled || modelName !== HANG_MODEL_NAME) return;
  // Blocks the event loop for good, as a template or native call that never returns would.
  for (;;);
}
