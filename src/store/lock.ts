/**
 * One server per store: a lock file holding the owner's PID. Two servers sharing a store would
 * each keep their own in-memory index and overwrite each other's models.json, so the second one
 * must refuse to start. A lock whose process is gone (kill -9, power loss) is taken over.
 */
import { promises as fs } from 'node:fs';
import { AppError } from '../errors.js';
import { fsyncDirectory, tempPathFor } from '../util/atomic-file.js';
import path from 'node:path';

export interface StoreLock {
  readonly file: string;
  /** Removes the lock file if it is still ours. Safe to call twice. */
  release(): Promise<void>;
}

export interface AcquireLockOptions {
  /** Called when a lock left by a dead process is taken over. Defaults to doing nothing. */
  onStaleLock?: (pid: number | undefined) => void;
}

/** Lock files held by this process: a lock naming our own PID is ours only if it is in here. */
const heldByThisProcess = new Set<string>();

/** Rounds of create / inspect / take over before giving up; only contention from other starters repeats them. */
const MAX_ATTEMPTS = 5;

export async function acquireStoreLock(file: string, storeRoot: string, options: AcquireLockOptions = {}): Promise<StoreLock> {
  const content = `${process.pid}\n`;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (await tryCreate(file, content)) {
      heldByThisProcess.add(file);
      return makeLock(file, content);
    }
    const existing = await readIfPresent(file);
    if (existing === undefined) continue; // released between our attempt and our read
    const pid = parsePid(existing);
    if (pid !== undefined && isLive(pid, file)) {
      throw new AppError(
        'store_locked',
        `model store ${storeRoot} is locked by process ${pid} (lock file ${file}); stop that server or use another models path`,
        { data: { pid, path: storeRoot } },
      );
    }
    if (await moveStaleAside(file, existing)) options.onStaleLock?.(pid);
  }
  throw new AppError('store_locked', `could not acquire the lock of model store ${storeRoot} (lock file ${file}): other processes keep taking it`);
}

function makeLock(file: string, content: string): StoreLock {
  let released = false;
  return {
    file,
    async release() {
      if (released) return;
      released = true;
      heldByThisProcess.delete(file);
      // Only remove it if it is still ours: an operator may have deleted it and another server taken it.
      if ((await readIfPresent(file)) === content) {
        await fs.rm(file, { force: true });
        await fsyncDirectory(path.dirname(file));
      }
    },
  };
}

/**
 * Creates the lock with its content already in place: the content goes to a temp file that is then
 * hard-linked to the lock name, which fails if the name exists. A reader therefore never sees an
 * empty lock file that it could mistake for a stale one.
 */
async function tryCreate(file: string, content: string): Promise<boolean> {
  const temp = tempPathFor(file);
  await fs.writeFile(temp, content, { mode: 0o644 });
  try {
    await fs.link(temp, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENOENT: the holder's open-time cleanup removed our temp file; the next round will name the holder.
    if (code === 'EEXIST' || code === 'ENOENT') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') return createExclusive(file, content);
    throw err;
  } finally {
    await fs.rm(temp, { force: true });
  }
}

/** Fallback for filesystems without hard links: O_EXCL create, then write. */
async function createExclusive(file: string, content: string): Promise<boolean> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

/**
 * Renames the stale lock to a private name and checks that what was moved is the stale lock we
 * inspected: when two starters race to take over, only one of them gets it; if we moved a lock
 * that another starter had just created, it is put back.
 */
async function moveStaleAside(file: string, staleContent: string): Promise<boolean> {
  const aside = tempPathFor(file);
  try {
    await fs.rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    const moved = await readIfPresent(aside);
    if (moved === staleContent) return true;
    await fs.link(aside, file).catch(() => undefined);
    return false;
  } finally {
    await fs.rm(aside, { force: true });
  }
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function parsePid(content: string): number | undefined {
  const text = content.trim();
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const pid = Number(text);
  return pid > 0 ? pid : undefined;
}

/**
 * Whether the lock's process still runs. Our own PID counts only if this process holds the lock:
 * in a container the server often gets the same PID after a restart, and the lock of its previous
 * life must not block it.
 */
function isLive(pid: number, file: string): boolean {
  if (pid === process.pid) return heldByThisProcess.has(file);
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
