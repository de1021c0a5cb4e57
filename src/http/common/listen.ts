import { chmodSync, chownSync, promises as fs, type Stats } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { AppError } from '../../errors.js';

/** True when something accepts connections on the Unix socket at `socketPath`. */
function socketIsLive(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** Mode of the socket file: the owner only, or the owner and the socket's group when one is given. */
export const SOCKET_MODE = 0o600;
export const GROUP_SOCKET_MODE = 0o660;
/**
 * The umask in force while the socket is bound: a socket file is created with 0777 & ~umask, so
 * this makes it 0600 from its first instant.
 */
const PRIVATE_UMASK = 0o177;

export interface SocketListenOptions {
  /** Group given read and write access to the socket (mode 0660). Defaults to none (mode 0600). */
  groupId?: number;
}

/** What is at a path, in words, for errors that refuse to replace it. */
function describeFileType(stat: Stats): string {
  if (stat.isFile()) return 'a regular file';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'something that is not a socket';
}

/**
 * Clears the way for a new socket at `socketPath`. Only a socket that no server answers on is
 * removed (left by a crashed server); a live one is an error, so two servers never fight over one
 * path, and anything else (a file, a directory, a symbolic link) is an error too: a mistyped
 * --socket must never delete someone's data.
 */
async function removeStaleSocket(socketPath: string): Promise<void> {
  let stat: Stats;
  try {
    stat = await fs.lstat(socketPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!stat.isSocket()) {
    throw new AppError('conflict', `${socketPath} is ${describeFileType(stat)}, not a socket; refusing to replace it (choose another --socket path or remove it yourself)`);
  }
  if (await socketIsLive(socketPath)) {
    throw new AppError('conflict', `another server is listening on ${socketPath}`);
  }
  await fs.rm(socketPath, { force: true });
}

/**
 * Binds with a private umask, and gives the socket file its final owner and mode before anything
 * else runs. In a process that is not a cluster worker, Node binds a Unix socket synchronously
 * inside listen(), so the umask is in force for the bind(2) that creates the file and is restored
 * before any other JavaScript runs: the file is never, even for an instant, open to other users.
 * (The umask is process-wide, so a file that the thread pool happened to create during that call
 * would be private too; the server listens at start-up, before it writes anything else.) The
 * group and mode are set in the same synchronous stretch, so no connection is answered before
 * they are final: done asynchronously, a client that saw the server answer could still find the
 * socket 0600 and a group member refused. The alternatives are worse: chmod after listen leaves
 * a window, and binding in a private directory then renaming leaves Node unlinking the wrong
 * path on close.
 */
function bindPrivately(server: http.Server, socketPath: string, groupId: number | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const previous = process.umask(PRIVATE_UMASK);
    let refused: AppError | undefined;
    try {
      server.listen(socketPath, () => {
        server.off('error', reject);
        // A socket that could not be restricted is being closed: that rejects instead.
        if (!refused) resolve();
      });
      // A bind that failed reports it through 'error', on the next tick, with no file made.
      if (server.listening) refused = restrictSocket(socketPath, groupId);
    } finally {
      process.umask(previous);
    }
    if (refused) {
      server.off('error', reject);
      void closeServer(server).finally(() => reject(refused));
    }
  });
}

/** Sets the socket file's group and mode; returns the error to refuse to serve with, if that failed. */
function restrictSocket(socketPath: string, groupId: number | undefined): AppError | undefined {
  try {
    if (groupId !== undefined) {
      // Group first, mode second: the group's access is granted only once the group is the right one.
      chownSync(socketPath, -1, groupId);
      chmodSync(socketPath, GROUP_SOCKET_MODE);
    } else {
      // Already 0600 by the umask; said again so the mode does not depend on how Node binds.
      chmodSync(socketPath, SOCKET_MODE);
    }
    return undefined;
  } catch (err) {
    const group = groupId === undefined ? '' : ` to group ${groupId}`;
    return new AppError('forbidden', `cannot restrict the socket ${socketPath}${group}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Listens on a Unix socket whose file is 0600 (0660 and owned by `options.groupId` when given).
 * A socket file left by a crashed server is replaced; see removeStaleSocket for what is refused.
 */
export async function listenOnSocket(server: http.Server, socketPath: string, options: SocketListenOptions = {}): Promise<void> {
  await removeStaleSocket(socketPath);
  await bindPrivately(server, socketPath, options.groupId);
}

/** Listens on a TCP port; a port that cannot be had is an error that names it and says why. */
export async function listenOnPort(server: http.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'the port is in use by another process' : err.code === 'EACCES' ? 'permission denied' : err.message;
      reject(new AppError('conflict', `cannot listen on ${host}:${port}: ${why} (choose another --port)`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return (server.address() as net.AddressInfo).port;
}

/** Stops accepting connections and ends idle keep-alive ones; in-flight requests finish first. */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
