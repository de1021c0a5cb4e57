import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { closeServer, listenOnSocket } from '../../../src/http/common/listen.js';
import { guardSocketPeers, isPeerAllowed, peerPolicy, resolveSocketGroup, type PeerPolicy } from '../../../src/http/common/socket-peers.js';
import { peerCredentialsRequired, type PeerCredentials } from '../../../src/native.js';
import { recordingLogger } from '../../support/recording-logger.js';

const skipNative = peerCredentialsRequired() ? false : `peer credentials are not available on ${process.platform}`;

interface Guarded {
  socketPath: string;
  handled: () => number;
  lines: string[];
}

/** A real HTTP server on a real Unix socket, guarded with `policy`; counts the requests its handler saw. */
async function guardedServer(t: TestContext, policy: PeerPolicy, readPeer?: (fd: number) => PeerCredentials): Promise<Guarded> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-peers-'));
  let handled = 0;
  const server = http.createServer((_req, res) => {
    handled++;
    res.end('served');
  });
  const { logger, lines } = recordingLogger();
  guardSocketPeers(server, { policy, logger, ...(readPeer ? { readPeer } : {}) });
  const socketPath = path.join(dir, 'mr.sock');
  await listenOnSocket(server, socketPath);
  t.after(async () => {
    await closeServer(server);
    await fs.rm(dir, { recursive: true, force: true });
  });
  return { socketPath, handled: () => handled, lines };
}

/** GET / over the socket: the status, or the error code when the server hung up instead. */
function get(socketPath: string): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/', agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode }));
    });
    req.once('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

const ourUid = () => process.getuid!();
/** A uid that is not ours and not root. */
const otherUid = () => (ourUid() === 4242 ? 4243 : 4242);

describe('who may use the socket', () => {
  test('the server user and root are allowed, anyone else only through the socket group', () => {
    const policy = peerPolicy(1000, 50);
    const peer = (uid: number, gid: number, groups: number[] = []): PeerCredentials => ({ pid: 1, uid, gid, groups });
    assert.equal(isPeerAllowed(peer(1000, 1000), policy), true);
    assert.equal(isPeerAllowed(peer(0, 0), policy), true);
    assert.equal(isPeerAllowed(peer(1001, 1001), policy), false);
    assert.equal(isPeerAllowed(peer(1001, 50), policy), true, 'primary group');
    assert.equal(isPeerAllowed(peer(1001, 1001, [7, 50]), policy), true, 'supplementary group');
    assert.equal(isPeerAllowed(peer(1001, 50), peerPolicy(1000)), false, 'no socket group: groups do not count');
  });

  test('the socket group is a gid or a group name, and an unknown name is an error naming it', { skip: skipNative }, () => {
    assert.equal(resolveSocketGroup('123'), 123);
    assert.equal(resolveSocketGroup('root'), 0);
    assert.throws(
      () => resolveSocketGroup('no-such-group-for-model-runner'),
      (err: unknown) => err instanceof AppError && err.code === 'bad_request' && /"no-such-group-for-model-runner" does not exist/.test(err.message),
    );
  });
});

describe('the peer check on accepted connections', { skip: skipNative }, () => {
  test("a connection from a user the policy does not name is closed before any handler runs, with a warning naming the peer's uid and pid", async (t) => {
    const server = await guardedServer(t, { uids: new Set([otherUid()]) });
    const reply = await get(server.socketPath);
    assert.equal(reply.status, undefined, 'no response at all');
    assert.ok(reply.error, 'the client sees the connection end');
    assert.equal(server.handled(), 0);
    const warning = server.lines.find((line) => line.includes('refused a socket connection from a user'));
    assert.ok(warning, server.lines.join('\n'));
    assert.equal(JSON.parse(warning).uid, ourUid());
    assert.equal(JSON.parse(warning).pid, process.pid);
  });

  test("the server's own user is served", async (t) => {
    const server = await guardedServer(t, peerPolicy(ourUid()));
    assert.deepEqual(await get(server.socketPath), { status: 200 });
    assert.equal(server.handled(), 1);
  });

  test('another user is served when they are in the socket group', async (t) => {
    const server = await guardedServer(t, { uids: new Set([otherUid()]), gid: process.getgid!() });
    assert.deepEqual(await get(server.socketPath), { status: 200 });
  });

  test('a peer whose credentials cannot be read is refused rather than let through', async (t) => {
    const server = await guardedServer(t, peerPolicy(ourUid()), () => {
      throw new Error('getsockopt(SO_PEERCRED) failed');
    });
    const reply = await get(server.socketPath);
    assert.equal(reply.status, undefined);
    assert.equal(server.handled(), 0);
    assert.ok(server.lines.some((line) => line.includes('could not be identified') && line.includes('SO_PEERCRED')));
  });
});
