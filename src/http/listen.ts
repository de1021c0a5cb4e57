import { promises as fs } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { AppError } from '../errors.js';

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

/**
 * Listens on a Unix socket. A socket file left by a crashed server is removed; one that a
 * running server still answers on is an error, so two servers never fight over one path.
 */
export async function listenOnSocket(server: http.Server, socketPath: string): Promise<void> {
  try {
    await fs.lstat(socketPath);
    if (await socketIsLive(socketPath)) {
      throw new AppError('conflict', `another server is listening on ${socketPath}`);
    }
    await fs.rm(socketPath, { force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function listenOnPort(server: http.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
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
