/**
 * Where the kernel can report socket peers, the server must check them: without the addon it
 * refuses to start, saying what is missing and how to build it, rather than serve unguarded.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { peerCredentialsRequired } from '../../src/native.js';
import { makeTempDir, REPO_ROOT } from '../support/server-harness.js';

test(
  'without the peer-credentials addon the server refuses to start and names the missing file and `make build`',
  { skip: peerCredentialsRequired() ? false : `peer credentials are optional on ${process.platform}` },
  async (t) => {
    // A copy of what ships, minus build/: the addon is looked up beside dist/, so this copy has none.
    const root = await makeTempDir('mr-no-addon-');
    t.after(() => fs.rm(root, { recursive: true, force: true }));
    await fs.cp(path.join(REPO_ROOT, 'dist'), path.join(root, 'dist'), { recursive: true });
    await fs.copyFile(path.join(REPO_ROOT, 'package.json'), path.join(root, 'package.json'));
    await fs.symlink(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
    const args = [path.join(root, 'dist', 'cli.js'), 'serve', '--socket', path.join(root, 'mr.sock'), '--models-path', path.join(root, 'models')];
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const read = (d: Buffer) => {
      output += d;
      // A server that starts anyway would run until killed: end it, and the assertions below say why.
      if (/\blistening\b/.test(output)) child.kill('SIGKILL');
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));

    assert.ok(code !== 0 && !/\blistening\b/.test(output), `the server started without the addon:\n${output}`);
    assert.ok(output.includes(path.join(root, 'build', 'Release', 'peer_credentials.node')), output);
    assert.match(output, /make build/);
    await assert.rejects(fs.lstat(path.join(root, 'mr.sock')), { code: 'ENOENT' }, 'no socket was ever opened');
  },
);
