/**
 * Whether this process is the single binary (`make binary`) rather than node running dist/ or
 * src/. The binary reads no node flags from its command line (they reach the program as
 * arguments), so whoever starts a child with flags passes them through NODE_OPTIONS instead.
 */
import { createRequire } from 'node:module';

let answer: boolean | undefined;

export function isSingleExecutable(): boolean {
  if (answer !== undefined) return answer;
  try {
    // node:sea exists from Node 20.12; on an older node this cannot be the binary.
    answer = (createRequire(import.meta.url)('node:sea') as { isSea(): boolean }).isSea();
  } catch {
    answer = false;
  }
  return answer;
}
