import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { getPeerCredentials, groupId, peerCredentialsRequired } from '../../../src/native.js';

const skip = peerCredentialsRequired() ? false : `peer credentials are not available on ${process.platform}`;

function fdOf(socket: net.Socket): number {
  return (socket as unknown as { _handle: { fd: number } })._handle.fd;
}

/** A real Unix-socket connection to ourselves: both ends, as the server and the client see them. */
async function connectedPair(t: TestContext): Promise<{ accepted: net.Socket; client: net.Socket }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-peer-'));
  const server = net.createServer();
  const sockets: net.Socket[] = [];
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    await fs.rm(dir, { recursive: true, force: true });
  });
  await new Promise<void>((resolve) => server.listen(path.join(dir, 'peer.sock'), resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect(path.join(dir, 'peer.sock'));
  sockets.push(client);
  await new Promise((resolve) => client.once('connect', resolve));
  const socket = await accepted;
  sockets.push(socket);
  return { accepted: socket, client };
}

describe('the peer-credentials addon', { skip }, () => {
  test('reports our own pid, uid and gid for the client of a connection we accepted', async (t) => {
    const { accepted } = await connectedPair(t);
    const peer = getPeerCredentials(fdOf(accepted));
    assert.equal(peer.uid, process.getuid!());
    assert.equal(peer.gid, process.getgid!());
    assert.equal(peer.pid, process.pid);
    assert.ok(Array.isArray(peer.groups) && peer.groups.every((g) => Number.isInteger(g)));
  });

  test('reports the listening process for the server end, as the client sees it', async (t) => {
    const { client } = await connectedPair(t);
    const peer = getPeerCredentials(fdOf(client));
    assert.equal(peer.uid, process.getuid!());
    assert.equal(peer.pid, process.pid);
  });

  test('a descriptor that is not a socket is an error that says why', async (t) => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-peer-'));
    t.after(() => fs.rm(dir, { recursive: true, force: true }));
    const file = await fs.open(path.join(dir, 'plain'), 'w');
    t.after(() => file.close());
    assert.throws(() => getPeerCredentials(file.fd), /getsockopt\(\w+\) failed: .*(not a socket|non-socket)/i);
  });

  test('anything but a descriptor number is refused before reaching the kernel', () => {
    assert.throws(() => getPeerCredentials('3' as unknown as number), { name: 'TypeError', message: /file descriptor/ });
    assert.throws(() => getPeerCredentials(-1), { name: 'TypeError', message: /non-negative/ });
  });

  test('group names resolve to their gid through the system group database, and unknown ones to undefined', () => {
    assert.equal(groupId('root'), 0);
    assert.equal(groupId('no-such-group-for-model-runner'), undefined);
  });
});
