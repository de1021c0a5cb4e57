import assert from 'node:assert/strict';
import { type Stats, unwatchFile, watchFile } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { watchNativeBuildChoice } from '../../../src/engine/native-build-watch.js';
import type { NativeBuildChoice } from '../../../src/engine/worker/native-build.js';

const local = { decision: 'local', reason: 'measured faster', cmakeOptions: { GGML_NATIVE: 'ON' } };
const prebuilt = { decision: 'prebuilt', reason: 'measured slower' };

describe('following the native build decision', () => {
  test('reports a change of binaries once, and not a rewrite that names the same binaries', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'native-watch-'));
    const file = path.join(dir, 'native-engine.json');
    const seen: NativeBuildChoice[] = [];
    const stop = watchNativeBuildChoice((choice) => seen.push(choice), { file, intervalMs: 10 });
    // A second listener on the same poll runs after the watcher's: once it has seen a write, so has
    // the watcher. Both share the watcher's poll, which never keeps a process alive: a timer does.
    const keepAlive = setInterval(() => {}, 1000);
    let seenWrite: (() => void) | undefined;
    const onPoll = (now: Stats, before: Stats) => {
      if (now.mtimeMs !== before.mtimeMs || now.size !== before.size) seenWrite?.();
    };
    watchFile(file, { interval: 10 }, onPoll);
    const write = async (text: string) => {
      const polled = new Promise<void>((resolve) => (seenWrite = resolve));
      await writeFile(file, text);
      await polled;
    };
    try {
      // Missing at the start means the prebuilt binaries: a prebuilt decision written later is no change.
      await write(JSON.stringify(prebuilt));
      assert.equal(seen.length, 0);
      await write(JSON.stringify(local));
      assert.deepEqual(seen, [{ use: 'local', cmakeOptions: { GGML_NATIVE: 'ON' } }]);
      await write(JSON.stringify({ ...local, reason: 'measured again' }));
      assert.equal(seen.length, 1, 'a new reason for the same build is no change');
      await write('not json');
      assert.equal(seen.length, 2);
      assert.equal(seen[1]!.use, 'prebuilt', 'a broken file falls back to the prebuilt binaries, and that is a change');
    } finally {
      clearInterval(keepAlive);
      unwatchFile(file, onPoll);
      stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
