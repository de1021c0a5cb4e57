/**
 * `model-runner run m "..." | head` closes stdout early; Node then raises EPIPE on the next
 * write, which would crash with a stack trace. A closed reader means nobody wants more output,
 * so the process just ends, as Unix tools do.
 */
let guarded = false;

export function exitQuietlyOnClosedStdout(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}
