/**
 * Makes the runtime folder hold exactly the manifest's files. A first start writes them all into
 * a private staging folder and renames it into place, so two first starts at once never see each
 * other's half-written files: one rename wins and the other start uses the winner's folder. Later
 * starts check each file (stat against the stamp, the hash when the stat changed) and replace a
 * missing or altered one by writing a temp file and renaming it over, which a running server that
 * has the old file open or mapped does not notice.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs, readdirSync, rmSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { fsyncDirectory } from '../util/atomic-file.js';
import { sha256File } from '../util/digest.js';
import type { RuntimeFile, RuntimeManifest } from './manifest.js';
import type { Payload } from './payload.js';
import { matchesStamp, readStamp, stampRecord, writeStamp, type Stamp } from './runtime-stamp.js';

export interface EnsureRuntimeOptions {
  /** The runtime folder (runtimeDirFor). */
  dir: string;
  manifest: RuntimeManifest;
  /** Where the files' bytes come from. */
  payload: Payload;
}

export interface EnsureRuntimeResult {
  /** True when this call unpacked the whole folder (the first start of this build). */
  unpacked: boolean;
  /** Files hashed because their stat had changed since they were last checked. */
  hashed: number;
  /** Paths of files rewritten because they were missing or their content or mode was wrong. */
  replaced: string[];
  /** Bytes written in all. */
  bytesWritten: number;
}

const STAGING_SUFFIX = '.tmp';

/**
 * Copies one file from the payload to a new file `target` with the manifest's mode, hashing what
 * it writes, and fsyncs it. Bytes that do not match the manifest's hash are an error: the binary
 * itself was altered.
 */
async function writeNewFile(target: string, file: RuntimeFile, payload: Payload): Promise<number> {
  const handle = await fs.open(target, 'wx', file.executable ? 0o755 : 0o644);
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of payload.open(file)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
      await handle.write(chunk as Buffer);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (size !== file.size || hash.digest('hex') !== file.sha256) {
    throw new Error(`the binary's copy of ${file.path} does not match its manifest (${size} bytes read): the binary was altered or cut; build it again`);
  }
  return size;
}

/** Removes staging folders of this build left by starts that died (their pid is gone). */
function removeDeadStaging(dir: string): void {
  const parent = path.dirname(dir);
  const prefix = `${path.basename(dir)}.`;
  let names: string[] = [];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.slice(prefix.length).split('.')[0]);
    if (!name.startsWith(prefix) || !name.endsWith(STAGING_SUFFIX) || !Number.isSafeInteger(pid) || isAlive(pid)) continue;
    rmSync(path.join(parent, name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Unpacks everything into a staging folder and renames it to `dir`; false when another start's folder got there first. */
async function unpackAll(options: EnsureRuntimeOptions, result: EnsureRuntimeResult): Promise<boolean> {
  const { dir, manifest, payload } = options;
  await fs.mkdir(path.dirname(dir), { recursive: true });
  removeDeadStaging(dir);
  const staging = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}${STAGING_SUFFIX}`;
  try {
    const stamp: Stamp = {};
    for (const file of manifest.files) {
      const target = path.join(staging, file.path);
      await fs.mkdir(path.dirname(target), { recursive: true });
      result.bytesWritten += await writeNewFile(target, file, payload);
      stamp[file.path] = stampRecord(file.sha256, statSync(target));
    }
    await writeStamp(staging, stamp);
    await fs.rename(staging, dir);
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw err;
  }
  await fsyncDirectory(path.dirname(dir));
  return true;
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

/** Rewrites one file in place: temp name beside it, then rename over it. */
async function replaceFile(dir: string, file: RuntimeFile, payload: Payload): Promise<number> {
  const target = path.join(dir, file.path);
  await fs.mkdir(path.dirname(target), { recursive: true });
  const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}${STAGING_SUFFIX}`;
  let written: number;
  try {
    written = await writeNewFile(temp, file, payload);
    await fs.rename(temp, target);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
  await fsyncDirectory(path.dirname(target));
  return written;
}

const isExecutable = (stats: Stats) => (stats.mode & 0o111) !== 0;

export async function ensureRuntime(options: EnsureRuntimeOptions): Promise<EnsureRuntimeResult> {
  const { dir, manifest, payload } = options;
  const result: EnsureRuntimeResult = { unpacked: false, hashed: 0, replaced: [], bytesWritten: 0 };
  if (statOrUndefined(dir) === undefined && (await unpackAll(options, result))) {
    result.unpacked = true;
    return result;
  }
  const stamp = readStamp(dir);
  const next: Stamp = {};
  let changed = false;
  for (const file of manifest.files) {
    const full = path.join(dir, file.path);
    let stats = statOrUndefined(full);
    if (stats?.isFile() && matchesStamp(stamp[file.path], file.sha256, stats)) {
      next[file.path] = stamp[file.path]!;
      continue;
    }
    changed = true;
    let intact = false;
    if (stats?.isFile() && stats.size === file.size && isExecutable(stats) === file.executable) {
      result.hashed += 1;
      intact = (await sha256File(full)).digest === `sha256:${file.sha256}`;
    }
    if (!intact) {
      result.bytesWritten += await replaceFile(dir, file, payload);
      result.replaced.push(file.path);
      stats = statSync(full);
    }
    next[file.path] = stampRecord(file.sha256, stats!);
  }
  if (changed) await writeStamp(dir, next);
  return result;
}
