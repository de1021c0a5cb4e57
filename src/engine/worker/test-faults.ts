/**
 * Test switch, off in production: with MODEL_RUNNER_TEST_FAULTS=1 in the environment, a
 * generation whose stop strings include FAULT_MARKER throws an uncaught exception inside the
 * Worker after its second token. Integration tests use it to prove that a failing Worker fails
 * only its own requests and that the server stays up and loads a fresh Worker.
 */
export const FAULT_MARKER = '__fault_throw__';
export const TEST_FAULTS_ENV = 'MODEL_RUNNER_TEST_FAULTS';

const enabled = process.env[TEST_FAULTS_ENV] === '1';

export function maybeInjectFault(stops: readonly string[], generatedTokens: number): void {
  if (!enabled || generatedTokens !== 2 || !stops.includes(FAULT_MARKER)) return;
  // Thrown from a fresh macrotask so it is uncaught, like a real bug outside the request's promise chain.
  setImmediate(() => {
    throw new Error('injected test fault (MODEL_RUNNER_TEST_FAULTS)');
  });
}

/** A model whose general.name is this hangs the admission check's child (tests of its timeout). */
export const HANG_MODEL_NAME = '__fault_hang__';

export function maybeHangAdmission(modelName: unknown): void {
  if (!enabled || modelName !== HANG_MODEL_NAME) return;
  // Blocks the event loop for good, as a template or native call that never returns would.
  for (;;);
}
