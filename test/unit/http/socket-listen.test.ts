import assert from 'node:assert/strict';
import { promises as fs, lstatSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { closeServer, listenOnSocket } from '../../../src/http/common/listen.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-listen-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

function newServer(t: TestContext): http.Server {
  const server = http.createServer((_req, res) => res.end('ok'));
  t.after(() => (server.listening ? closeServer(server) : undefined));
  return server;
}

/** A socket file that nothing answers on, as a server killed with SIGKILL leaves it. */
async function staleSocket(socketPath: string): Promise<void> {
  const { spawn } = await import('node:child_process');
  const script = `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  assert.ok(lstatSync(socketPath).isSocket(), 'the killed server left its socket file');
}

function conflictNaming(socketPath: string, what: string) {
  return (err: unknown) => err instanceof AppError && err.code === 'conflict' && err.message.includes(socketPath) && err.message.includes(what);
}

describe('the Unix socket file', () => {
  test('is readable and writable by its owner only (0600) already when the server starts listening', async (t) => {
    const socketPath = path.join(await tempDir(t), 'mr.sock');
    const server = newServer(t);
    // 'listening' fires right after bind(2), before listenOnSocket's own code runs again: a mode
    // set only after listening would show here as the umask's default (0755 or so).
    let modeAtListening: number | undefined;
    server.once('listening', () => (modeAtListening = lstatSync(socketPath).mode & 0o777));
    await listenOnSocket(server, socketPath);
    assert.equal(modeAtListening, 0o600);
    assert.equal((await fs.lstat(socketPath)).mode & 0o777, 0o600);
  });

  test('is 0660 and owned by the socket group when one is given, already when the server starts listening, before any connection is answered', async (t) => {
    const socketPath = path.join(await tempDir(t), 'mr.sock');
    const server = newServer(t);
    // Root may hand the socket to any group; anyone else, to a group of their own.
    const gid = process.getuid!() === 0 ? 65534 : process.getgid!();
    let atListening: { mode: number; gid: number } | undefined;
    server.once('listening', () => {
      const stat = lstatSync(socketPath);
      atListening = { mode: stat.mode & 0o777, gid: stat.gid };
    });
    await listenOnSocket(server, socketPath, { groupId: gid });
    // Set later, a client that saw the server answer could find the socket 0600 and a group member refused.
    assert.deepEqual(atListening, { mode: 0o660, gid });
    const stat = await fs.lstat(socketPath);
    assert.equal(stat.mode & 0o777, 0o660);
    assert.equal(stat.gid, gid);
  });

  test('left by a crashed server is replaced', async (t) => {
    const socketPath = path.join(await tempDir(t), 'mr.sock');
    await staleSocket(socketPath);
    const server = newServer(t);
    await listenOnSocket(server, socketPath);
    assert.equal(server.listening, true);
  });

  test('of a server that still answers is an error, and that server keeps its socket', async (t) => {
    const socketPath = path.join(await tempDir(t), 'mr.sock');
    const first = newServer(t);
    await listenOnSocket(first, socketPath);
    await assert.rejects(listenOnSocket(newServer(t), socketPath), conflictNaming(socketPath, 'another server is listening'));
    assert.ok((await fs.lstat(socketPath)).isSocket());
  });
});

describe('a path that is not a socket', () => {
  test('a regular file at the socket path is an error naming it, and the file is kept', async (t) => {
    const socketPath = path.join(await tempDir(t), 'notes.txt');
    await fs.writeFile(socketPath, 'precious');
    await assert.rejects(listenOnSocket(newServer(t), socketPath), conflictNaming(socketPath, 'is a regular file, not a socket'));
    assert.equal(await fs.readFile(socketPath, 'utf8'), 'precious');
  });

  test('a directory at the socket path is an error naming it, and the directory is kept', async (t) => {
    const socketPath = path.join(await tempDir(t), 'mr.sock');
    await fs.mkdir(socketPath);
    await fs.writeFile(path.join(socketPath, 'inside'), 'x');
    await assert.rejects(listenOnSocket(newServer(t), socketPath), conflictNaming(socketPath, 'is a directory, not a socket'));
    assert.equal(await fs.readFile(path.join(socketPath, 'inside'), 'utf8'), 'x');
  });

  test('a symbolic link at the socket path is an error naming it, even when it points at a stale socket, and both are kept', async (t) => {
    const dir = await tempDir(t);
    const target = path.join(dir, 'real.sock');
    await staleSocket(target);
    const socketPath = path.join(dir, 'mr.sock');
    await fs.symlink(target, socketPath);
    await assert.rejects(listenOnSocket(newServer(t), socketPath), conflictNaming(socketPath, 'is a symbolic link, not a socket'));
    assert.ok((await fs.lstat(socketPath)).isSymbolicLink());
    assert.ok((await fs.lstat(target)).isSocket());
  });
});
