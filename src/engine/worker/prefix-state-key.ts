/**
 * What names a saved prompt prefix: the model, the engine build that computed its KV cells and
 * the tokens it holds. A state file is restored only into the same model under the same build,
 * so the key covers all three; any change to one is a different key and never meets the old file.
 */
import { createHash } from 'node:crypto';

/** Bump when the file format or what the key covers changes, so that older files stop matching. */
export const PREFIX_STATE_FORMAT = 1;

/** The key (64 hex digits) of `tokens` as computed by `build` for model `modelId`. */
export function prefixStateKey(modelId: string, build: string, tokens: ArrayLike<number>): string {
  const hash = createHash('sha256');
  // NUL separators: no model id or build text can shift bytes from one field into the next.
  hash.update(`model-runner prefix state v${PREFIX_STATE_FORMAT}\0${modelId}\0${build}\0`);
  hash.update(tokenBytes(tokens));
  return hash.digest('hex');
}

/** Tokens as little-endian 32-bit integers, the way llama.cpp writes them into its state file. */
export function tokenBytes(tokens: ArrayLike<number>): Buffer {
  const bytes = Buffer.alloc(tokens.length * 4);
  for (let i = 0; i < tokens.length; i++) bytes.writeUInt32LE(tokens[i]! >>> 0, i * 4);
  return bytes;
}

/** How many leading tokens `a` and `b` share. */
export function commonPrefixLength(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
