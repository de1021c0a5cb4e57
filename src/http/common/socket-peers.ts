/**
 * Who may talk to the server over its Unix socket: the user the server runs as, root, and, when a
 * socket group is configured, that group's members. The socket file's mode already keeps others
 * out; this check is the second line, for when the mode is widened by hand, or a parent directory
 * or a bind mount exposes the socket, and it rests on what the kernel recorded at connect(2), which
 * a peer cannot forge.
 */
import type net from 'node:net';
import { AppError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { getPeerCredentials, groupId, type PeerCredentials } from '../../native.js';

export interface PeerPolicy {
  /** Users allowed whatever their groups: the server's own user and root. */
  uids: ReadonlySet<number>;
  /** Members of this group (primary or supplementary) are allowed too. Defaults to none. */
  gid?: number;
}

const ROOT_UID = 0;

/** The server's own user and root, plus the socket's group when there is one. */
export function peerPolicy(serverUid: number, socketGid?: number): PeerPolicy {
  return { uids: new Set([serverUid, ROOT_UID]), ...(socketGid === undefined ? {} : { gid: socketGid }) };
}

export function isPeerAllowed(peer: PeerCredentials, policy: PeerPolicy): boolean {
  if (policy.uids.has(peer.uid)) return true;
  return policy.gid !== undefined && (peer.gid === policy.gid || peer.groups.includes(policy.gid));
}

/**
 * The gid that MODEL_RUNNER_SOCKET_GROUP names: a number is taken as a gid, anything else is looked
 * up as a group name.
 */
export function resolveSocketGroup(spec: string): number {
  if (/^\d+$/.test(spec)) {
    const gid = Number(spec);
    if (!Number.isSafeInteger(gid) || gid > 0xffffffff) throw new AppError('bad_request', `socket group ${spec} is not a valid gid`);
    return gid;
  }
  const gid = groupId(spec);
  if (gid === undefined) throw new AppError('bad_request', `socket group "${spec}" does not exist on this system`);
  return gid;
}

export interface GuardOptions {
  policy: PeerPolicy;
  logger: Logger;
  /** Reads a connected socket's peer. Defaults to the addon's getPeerCredentials. */
  readPeer?: (fd: number) => PeerCredentials;
}

/** The file descriptor under a net.Socket; Node keeps it on the (internal) handle. */
function socketFd(socket: net.Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/**
 * Checks the peer of every connection `server` accepts, before anything else sees the socket (the
 * listener runs first, and a refused socket is destroyed before its first byte is read), so that a
 * refused peer reaches no handler. A peer whose credentials cannot be read is refused too.
 */
export function guardSocketPeers(server: net.Server, options: GuardOptions): void {
  const readPeer = options.readPeer ?? getPeerCredentials;
  server.prependListener('connection', (socket: net.Socket) => {
    let peer: PeerCredentials;
    try {
      const fd = socketFd(socket);
      if (fd === undefined) throw new Error('the connection has no file descriptor');
      peer = readPeer(fd);
    } catch (err) {
      options.logger.warn('refused a socket connection whose peer could not be identified', { error: (err as Error).message });
      socket.destroy();
      return;
    }
    if (!isPeerAllowed(peer, options.policy)) {
      options.logger.warn('refused a socket connection from a user that may not use this server', { uid: peer.uid, pid: peer.pid, gid: peer.gid });
      socket.destroy();
    }
  });
}
