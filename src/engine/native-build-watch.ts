/**
 * Follows build/native-engine.json while the server runs. `make run` serves at once with the
 * prebuilt binaries while llama.cpp compiles for this CPU in the background
 * (scripts/build-native-engine.sh --background), so the decision may be written minutes after the
 * server started. Every engine start reads the file itself (worker/native-build.ts), so later
 * loads pick the new choice up without help; this only notices the change, for one log line and
 * for the spare Worker, whose engine was started under the old choice.
 */
import { unwatchFile, watchFile } from 'node:fs';
import { NATIVE_BUILD_FILE, readNativeBuildChoice, type NativeBuildChoice } from './worker/native-build.js';

/** How often the file's status is polled: a decision is written once, so seconds late is fine. */
export const NATIVE_BUILD_POLL_MS = 5_000;

export interface NativeBuildWatchOptions {
  /** The decision file. Defaults to NATIVE_BUILD_FILE. */
  file?: string;
  /** Poll interval in milliseconds. Defaults to NATIVE_BUILD_POLL_MS. */
  intervalMs?: number;
}

/** A choice as a comparable string: two reads that give the same binaries compare equal. */
export function choiceIdentity(choice: NativeBuildChoice): string {
  return choice.use === 'local' ? `local ${JSON.stringify(choice.cmakeOptions)}` : 'prebuilt';
}

/**
 * Calls `onChange` with the new choice whenever the binaries it names change (not on every write
 * of the file). Polls the file's status, which works while the file does not exist yet and never
 * keeps the process alive. Returns the function that stops watching.
 */
export function watchNativeBuildChoice(onChange: (choice: NativeBuildChoice) => void, options: NativeBuildWatchOptions = {}): () => void {
  const file = options.file ?? NATIVE_BUILD_FILE;
  let current = choiceIdentity(readNativeBuildChoice(file));
  const listener = (): void => {
    const choice = readNativeBuildChoice(file);
    const identity = choiceIdentity(choice);
    if (identity === current) return;
    current = identity;
    onChange(choice);
  };
  watchFile(file, { interval: options.intervalMs ?? NATIVE_BUILD_POLL_MS, persistent: false }, listener);
  return () => unwatchFile(file, listener);
}
