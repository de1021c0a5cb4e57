/**
 * Who may use the server's Unix socket, with real users: the server runs as root (as the tests
 * do), a client runs as `nobody` through setpriv. The socket file is then opened up by hand, so
 * that the kernel lets `nobody` connect and only the server's own peer check stands in the way.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { after, describe, test } from 'node:test';
import { startServer, type ServerProcess } from '../support/server-harness.js';

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
});
