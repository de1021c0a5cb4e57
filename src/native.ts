/**
 * The one typed face of our node-gyp addon (native/peer-credentials.cc, built by `make build` into
 * build/Release/peer_credentials.node). It reads the kernel's record of who is at the other end of
 * a Unix-socket connection, which is how the server refuses other users' connections.
 *
 * On Linux and macOS the addon is required: a server that cannot check its peers refuses to start
 * rather than run unguarded, and the error says how to build the addon. Elsewhere (no Unix-socket
 * peer credentials) the server runs without the check and logs a warning.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from './errors.js';

/** The kernel's record of a connected peer, taken when it connected. */
export interface PeerCredentials {
  /** Process id of the peer; -1 where the platform does not report it. */
  pid: number;
  uid: number;
  /** Primary (effective) group of the peer. */
  gid: number;
  /** Supplementary groups of the peer; empty where the kernel does not report them. */
  groups: number[];
}

interface PeerCredentialsAddon {
  getPeerCredentials(fd: number): PeerCredentials;
  groupId(name: string): number | undefined;
}

/** Both src/native.ts (tests) and dist/native.js (the server) sit one level below the repository root. */
export const ADDON_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'build', 'Release', 'peer_credentials.node');

/** Platforms whose kernels report Unix-socket peer credentials and for which the addon compiles. */
export const PEER_CREDENTIALS_PLATFORMS: readonly NodeJS.Platform[] = ['linux', 'darwin'];

let addon: PeerCredentialsAddon | undefined;

/** Loads the addon once; throws `unavailable` naming the missing file and how to build it. */
function loadAddon(): PeerCredentialsAddon {
  if (addon !== undefined) return addon;
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as PeerCredentialsAddon;
  } catch (err) {
    throw new AppError(
      'unavailable',
      `the peer-credentials addon could not be loaded from ${ADDON_PATH} (${(err as Error).message.split('\n')[0]}); ` +
        'build it with `make build` (node-gyp, using the headers of the node that runs the server)',
      { cause: err },
    );
  }
  return addon;
}

/** True when this platform has peer credentials, so the check must run (and the addon must load). */
export function peerCredentialsRequired(platform: NodeJS.Platform = process.platform): boolean {
  return PEER_CREDENTIALS_PLATFORMS.includes(platform);
}

/** Throws `unavailable` now, at start-up, when the addon cannot be loaded; later calls cannot then fail for that reason. */
export function assertPeerCredentialsAddon(): void {
  loadAddon();
}

/** The peer of the connected Unix socket `fd`; throws when `fd` is not one. */
export function getPeerCredentials(fd: number): PeerCredentials {
  return loadAddon().getPeerCredentials(fd);
}

/** The gid of group `name` from the system's group database, or undefined when there is no such group. */
export function groupId(name: string): number | undefined {
  return loadAddon().groupId(name);
}
