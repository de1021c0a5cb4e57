/**
 * A small tmpfs mounted for one test file, to fill a model store's disk for real. Mounting needs
 * root (the tests run as root here); where it is refused, `mountSmallVolume` says why and the test
 * file skips. The volume also holds a filler file that plays "another process filled the disk".
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir } from '../../support/server-harness.js';

const run = promisify(execFile);
const FILL_CHUNK = Buffer.alloc(1 << 20, 0x5a);

export interface SmallVolume {
  /** The mount point. */
  dir: string;
  /** Bytes in use on the volume (statfs), what "back where it was" is measured in. */
  usedBytes(): Promise<number>;
  /** Writes a file outside the store until the volume has no free byte left. */
  fill(): Promise<void>;
  /** Removes what fill() wrote. */
  unfill(): Promise<void>;
  /** Unmounts and removes the mount point; safe to call twice. */
  dispose(): Promise<void>;
}

/** Mounts a tmpfs of `sizeMiB`; returns the reason instead when this system refuses the mount. */
export async function mountSmallVolume(sizeMiB: number): Promise<SmallVolume | string> {
  const parent = await makeTempDir('mr-e2e-volume-');
  const dir = path.join(parent, 'volume');
  await fs.mkdir(dir);
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
  } catch (err) {
    await fs.rm(parent, { recursive: true, force: true });
    return `cannot mount a tmpfs here (${((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}); these tests need root`;
  }
  const filler = path.join(dir, 'filler');
  let mounted = true;
  return {
    dir,
    async usedBytes() {
      const s = await fs.statfs(dir);
      return (s.blocks - s.bfree) * s.bsize;
    },
    async fill() {
      const handle = await fs.open(filler, 'a');
      try {
        // Big writes first, then small ones for the last pages.
        for (const size of [FILL_CHUNK.length, 4096]) {
          for (;;) {
            try {
              await handle.write(FILL_CHUNK, 0, size);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw err;
            }
          }
        }
      } finally {
        await handle.close();
      }
    },
    async unfill() {
      await fs.rm(filler, { force: true });
    },
    async dispose() {
      if (mounted) {
        mounted = false;
        await run('umount', ['-l', dir]);
      }
      await fs.rm(parent, { recursive: true, force: true });
    },
  };
}

/** Bytes a file takes on disk (a chunked download's file is sparse); 0 when it does not exist. */
export async function allocatedBytes(file: string): Promise<number> {
  const stat = await fs.stat(file).catch(() => undefined);
  return stat ? Math.min(stat.size, stat.blocks * 512) : 0;
}

/** The files of a store's blobs directory whose names end with one of `suffixes`. */
export async function blobFilesEndingWith(modelsPath: string, suffixes: string[]): Promise<string[]> {
  const names = await fs.readdir(path.join(modelsPath, 'blobs', 'sha256')).catch(() => [] as string[]);
  return names.filter((n) => suffixes.some((s) => n.endsWith(s)));
}
