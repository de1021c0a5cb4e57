/**
 * Who may use the server's Unix socket, with real users: the server runs as root (as the tests
 * do), a client runs as `nobody` through setpriv. The socket file is then opened up by hand, so
 * that the kernel lets `nobody` connect and only the server's own peer check stands in the way.
 * One server runs as `nobody` itself, to see it refuse a socket group it cannot set.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { CLI_PATH, startServer, type ServerProcess } from '../support/server-harness.js';

const NOBODY_UID = 65534;
const NOBODY_GID = 65534; // nogroup
const DAEMON_GID = 1;

function whyNot(): string | false {
  if (process.platform !== 'linux') return 'runs on Linux only (setpriv, SO_PEERCRED)';
  if (process.getuid!() !== 0) return 'needs root, to run a client as another user: run the tests as root to cover this';
  if (spawnSync('setpriv', ['--version']).status !== 0) return 'needs setpriv (util-linux) to run a client as another user';
  return false;
}

interface ClientResult {
  /** True once the kernel accepted the connection (the file mode let the client in). */
  connected: boolean;
  status?: number;
  error?: string;
}

/** GET / over `socketPath` from a node process running as `nobody`, with the given group options of setpriv. */
function getAsNobody(socketPath: string, groupArgs: string[]): Promise<ClientResult> {
  const script = `
    const http = require('http');
    let connected = false;
    const req = http.get({ socketPath: ${JSON.stringify(socketPath)}, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => console.log(JSON.stringify({ connected, status: res.statusCode })));
    });
    req.on('socket', (s) => s.on('connect', () => (connected = true)));
    req.on('error', (err) => console.log(JSON.stringify({ connected, error: err.code || err.message })));`;
  const child = spawn('setpriv', ['--reuid=nobody', ...groupArgs, '--', process.execPath, '-e', script], { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (err += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`the client as nobody exited with ${code}: ${err}${out}`));
      resolve(JSON.parse(out) as ClientResult);
    });
  });
}

describe('the socket with a client of another user', { skip: whyNot() }, () => {
  const servers: ServerProcess[] = [];
  after(async () => {
    for (const server of servers) await server.dispose();
  });

  test('a user who is neither the server user nor root is refused by the peer check even when the socket file lets them in', async () => {
    const server = await startServer({ args: ['--log-level', 'info'] });
    servers.push(server);
    assert.equal((await fs.lstat(server.socketPath)).mode & 0o777, 0o600, 'the socket starts private');
    // Open the way for everyone, so that the file mode is not what stops them.
    await fs.chmod(server.dir, 0o755);
    await fs.chmod(server.socketPath, 0o666);

    const result = await getAsNobody(server.socketPath, [`--regid=${NOBODY_GID}`, '--clear-groups']);
    assert.equal(result.connected, true, `the kernel let nobody connect: ${JSON.stringify(result)}`);
    assert.equal(result.status, undefined, `nobody got no response: ${JSON.stringify(result)}`);
    assert.ok(result.error, 'the client sees the connection closed');
    const warning = await server.waitForOutput(/refused a socket connection from a user/);
    assert.match(warning, /uid=65534/);
    assert.match(warning, /pid=\d+/);
    assert.equal((await server.request('/')).status, 200, 'root is still served');
  });

  test('members of the socket group are served, by primary or supplementary group, and the socket is 0660 in that group', async () => {
    const server = await startServer({ env: { MODEL_RUNNER_SOCKET_GROUP: 'nogroup' } });
    servers.push(server);
    const stat = await fs.lstat(server.socketPath);
    assert.equal(stat.mode & 0o777, 0o660);
    assert.equal(stat.gid, NOBODY_GID);
    await fs.chmod(server.dir, 0o755);

    assert.deepEqual(await getAsNobody(server.socketPath, [`--regid=${NOBODY_GID}`, '--clear-groups']), { connected: true, status: 200 });
    assert.deepEqual(await getAsNobody(server.socketPath, [`--regid=${DAEMON_GID}`, `--groups=${NOBODY_GID}`]), { connected: true, status: 200 });
  });

  test('a server that cannot give its socket the group asked for refuses to start, says why, and leaves no socket behind', async () => {
    // Run as nobody, outside the group `daemon`: chown to a group one is not in fails with EPERM.
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'socket-refused-'));
    try {
      await fs.chown(dir, NOBODY_UID, NOBODY_GID);
      const socketPath = path.join(dir, 'model-runner.sock');
      const args = ['--reuid=nobody', `--regid=${NOBODY_GID}`, '--clear-groups', '--', process.execPath, CLI_PATH, 'serve', '--socket', socketPath, '--models-path', path.join(dir, 'models'), '--socket-group', 'daemon'];
      const child = spawn('setpriv', args, { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const outcome = await new Promise<{ exit: number | null } | { listening: true }>((resolve, reject) => {
        const read = (d: Buffer) => {
          output += d;
          // Serving would be the defect: stop it and fail at once rather than wait for an exit.
          if (/\blistening\b/.test(output)) {
            child.kill('SIGKILL');
            resolve({ listening: true });
          }
        };
        child.stdout.on('data', read);
        child.stderr.on('data', read);
        child.once('error', reject);
        child.once('close', (code) => resolve({ exit: code }));
      });
      assert.deepEqual(outcome, { exit: 1 }, `the server refused to start: ${output}`);
      assert.match(output, /cannot restrict the socket .*model-runner\.sock to group 1: EPERM/);
      await assert.rejects(fs.lstat(socketPath), { code: 'ENOENT' }, 'no socket file is left behind');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
