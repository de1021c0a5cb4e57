import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { openStore } from '../../../src/store/index.js';
import { AppError } from '../../../src/errors.js';
import { killHard, makeTempRoot, spawnSupportScript, waitForLine } from './support/store-fixtures.js';

const lockFileOf = (root: string) => path.join(root, 'model-runner.lock');

describe('store lock', () => {
  test('a second open of a store this process holds fails with store_locked naming the pid and the path', async (t) => {
    const root = await makeTempRoot(t);
    const store = await openStore(root);
    t.after(() => store.close());
    await assert.rejects(openStore(root), (err: AppError) => {
      assert.equal(err.code, 'store_locked');
      assert.ok(err.message.includes(String(process.pid)), err.message);
      assert.ok(err.message.includes(root), err.message);
      return true;
    });
    // The refused open did not disturb the holder's lock.
    assert.equal((await fs.readFile(lockFileOf(root), 'utf8')).trim(), String(process.pid));
    assert.deepEqual(await store.listModels(), []);
  });

  test('a store locked by a live child process is refused, and its lock is taken over once the child is SIGKILLed', async (t) => {
    const root = await makeTempRoot(t);
    const child = spawnSupportScript('hold-store.ts', [root]);
    t.after(() => killHard(child));
    const line = await waitForLine(child, 'locked ');
    const childPid = Number(line.split(' ')[1]);
    assert.equal(childPid, child.pid);

    await assert.rejects(openStore(root), (err: AppError) => {
      assert.equal(err.code, 'store_locked');
      assert.ok(err.message.includes(`process ${childPid}`), err.message);
      assert.ok(err.message.includes(root), err.message);
      return true;
    });

    await killHard(child);
    assert.equal((await fs.readFile(lockFileOf(root), 'utf8')).trim(), String(childPid), 'kill -9 leaves the lock behind');
    const store = await openStore(root);
    t.after(() => store.close());
    assert.equal((await fs.readFile(lockFileOf(root), 'utf8')).trim(), String(process.pid));
  });

  test('a lock naming this process that this process does not hold is a leftover of a previous life and is taken over', async (t) => {
    // In a container the server often restarts with the same PID as before the crash.
    const root = await makeTempRoot(t);
    await fs.writeFile(lockFileOf(root), `${process.pid}\n`);
    const store = await openStore(root);
    await store.close();
    await fs.writeFile(lockFileOf(root), 'not a pid');
    const again = await openStore(root);
    t.after(() => again.close());
    assert.equal((await fs.readFile(lockFileOf(root), 'utf8')).trim(), String(process.pid));
  });

  test('closing the store removes the lock file so the next open succeeds', async (t) => {
    const root = await makeTempRoot(t);
    const store = await openStore(root);
    await store.close();
    await assert.rejects(fs.stat(lockFileOf(root)), { code: 'ENOENT' });
    const again = await openStore(root);
    await again.close();
  });
});
