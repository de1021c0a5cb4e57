/** Polling for state the server reaches on its own (an unload, an idle slot), with a generous overall limit instead of a fixed delay. */

/** Long enough for a loaded 2-core machine; a condition that holds at all holds well before this. */
export const DEFAULT_WAIT_MS = 45_000;
const POLL_MS = 50;

export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
