import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { processTreeRssBytes } from '../../../src/bench/compare/process.js';

describe('resident memory of a process tree', () => {
  it('counts a child process on top of its parent, and says nothing for a process that is gone', async () => {
    const child = spawn(process.execPath, ['-e', "process.stdout.write('up'); setInterval(() => {}, 1000)"], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await once(child.stdout!, 'data');
      const childBytes = await processTreeRssBytes(child.pid!);
      assert.ok(childBytes !== undefined && childBytes > 2 ** 20, `a running node holds more than 1 MiB (read ${childBytes})`);
      const ownBytes = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
      const treeBytes = await processTreeRssBytes(process.pid);
      assert.ok(treeBytes! >= childBytes + ownBytes / 2, `the tree (${treeBytes}) holds the child (${childBytes}) and this process (${ownBytes})`);
    } finally {
      child.kill();
    }
    await once(child, 'exit');
    assert.equal(await processTreeRssBytes(child.pid!), undefined);
  });
});
