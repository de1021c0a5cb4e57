/**
 * Waits for a condition the test cannot be told about by an event (a file's size written by
 * another process): checks it every few milliseconds. The deadline only turns a hang into a
 * failure that names what never happened; it is not a claim about speed.
 */

/** How often the condition is checked. */
const POLL_MS = 10;
/** A condition not met by then fails the test. */
const GIVE_UP_MS = 120_000;

/** Resolves once `check` returns true; `check` may throw to fail early (the process it waits on died). */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + GIVE_UP_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
