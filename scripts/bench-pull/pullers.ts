/**
 * The pullers under test, each run as its own process into a fresh destination: ours
 * (scripts/bench-pull/pull-once.ts: Catalog.pull into a new store), `skopeo copy docker://REF
 * oci:DIR:latest`, and, as the ceiling of what the link and the disk allow, curl writing the
 * blob to a file, alone ('curl': the bytes only reach the page cache) and followed by an fsync of
 * the file ('curl-fsync': on the disk, as our store has them before its rename), and a download
 * that does what ours does, with standard tools ('curl-verify': the digest checked on the way, then the fsync).
 * And, with no network at all, the disk's pace for the same bytes as dd writes them ('disk'): what
 * a durable write of the layer costs here, to read curl's pace (which skips it) against.
 * Each returns seconds and MB/s (MB = 10^6 B).
 */
import { execFile } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { PullOnceResult } from './pull-once.js';

const run = promisify(execFile);
const PULL_ONCE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pull-once.ts');
/** Output of a child beyond this is a bug, not a result. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export type Side = 'ours' | 'skopeo' | 'curl' | 'curl-fsync' | 'curl-verify' | 'disk';

export interface PullSample {
  side: Side;
  seconds: number;
  mbPerSecond: number;
  /** Process wall time, start-up included. */
  processSeconds: number;
  /** Ours only: time inside the store's commit (fsync + rename). */
  commitSeconds?: number;
  /** Ours only: CPU time of the pulling process during the pull, every thread. */
  cpuSeconds?: number;
}

export interface OursSettings {
  /** Passed to RegistryClient when set; its defaults otherwise. */
  concurrency?: number;
  chunkBytes?: number;
  /** Passed to pull-once as --hash-placement when set (inline or worker). */
  hashPlacement?: string;
  /** HTTP_PROXY and HTTPS_PROXY for the pull. Defaults to none. */
  proxyUrl?: string;
}

export async function pullWithOurs(reference: string, destination: string, bytes: number, settings: OursSettings): Promise<PullSample> {
  const args = ['--import', 'tsx', PULL_ONCE, '--ref', reference, '--store', destination];
  if (settings.concurrency !== undefined) args.push('--concurrency', String(settings.concurrency));
  if (settings.chunkBytes !== undefined) args.push('--chunk-bytes', String(settings.chunkBytes));
  if (settings.hashPlacement !== undefined) args.push('--hash-placement', settings.hashPlacement);
  if (settings.proxyUrl !== undefined) args.push('--proxy', settings.proxyUrl);
  const began = performance.now();
  const { stdout } = await run(process.execPath, args, { maxBuffer: MAX_OUTPUT_BYTES });
  const processSeconds = (performance.now() - began) / 1000;
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as PullOnceResult;
  return { side: 'ours', seconds: result.seconds, mbPerSecond: bytes / 1e6 / result.seconds, processSeconds, commitSeconds: result.commitSeconds, cpuSeconds: result.cpuSeconds };
}

/** skopeo has no in-process clock to read: its time is the whole process, a few ms of start-up included. */
export async function pullWithSkopeo(reference: string, destination: string, bytes: number, proxyUrl?: string): Promise<PullSample> {
  // skopeo creates the layout directory but refuses a missing parent.
  await mkdir(path.dirname(destination), { recursive: true });
  const env = proxyUrl === undefined ? process.env : { ...process.env, HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl };
  const began = performance.now();
  await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${reference}`, `oci:${destination}:latest`], { maxBuffer: MAX_OUTPUT_BYTES, env });
  const seconds = (performance.now() - began) / 1000;
  return { side: 'skopeo', seconds, mbPerSecond: bytes / 1e6 / seconds, processSeconds: seconds };
}

/**
 * One GET of the blob written to a file (no digest check): the link's and the page cache's pace;
 * with `fsync`, the file is then fsynced inside the time, so that the bytes are on the disk as
 * our store has them before it renames a blob into place.
 */
export async function pullWithCurl(blobUrl: string, destination: string, bytes: number, fsync = false): Promise<PullSample> {
  await mkdir(destination, { recursive: true });
  const file = path.join(destination, 'blob');
  const began = performance.now();
  await run('curl', ['-sS', '--fail', '-o', file, blobUrl], { maxBuffer: MAX_OUTPUT_BYTES });
  if (fsync) await fsyncFile(file);
  return timedSample(fsync ? 'curl-fsync' : 'curl', began, bytes);
}

/**
 * What ours does (the digest checked, the file on the disk), done with standard tools: curl's
 * stream written to a file by tee and hashed by OpenSSL (SHA-NI where the CPU has it) in the same
 * pass, the digest compared with the one the blob's URL names, then an fsync of the file, as in
 * 'curl-fsync'. Not a floor: it pays tee's extra copy and a whole fsync at the end, where ours
 * hashes from its read buffer and flushes behind the download.
 */
export async function pullWithCurlVerified(blobUrl: string, destination: string, bytes: number): Promise<PullSample> {
  await mkdir(destination, { recursive: true });
  const file = path.join(destination, 'blob');
  const expected = /sha256:([0-9a-f]{64})/.exec(blobUrl)?.[1];
  if (!expected) throw new Error(`the blob URL names no sha256 digest: ${blobUrl}`);
  const began = performance.now();
  const { stdout } = await run('bash', ['-o', 'pipefail', '-c', 'curl -sS --fail "$1" | tee "$2" | openssl dgst -sha256 -r', 'pull', blobUrl, file], { maxBuffer: MAX_OUTPUT_BYTES });
  if (stdout.split(' ')[0] !== expected) throw new Error(`curl | openssl: digest ${stdout.trim()} is not the blob's ${expected}`);
  await fsyncFile(file);
  return timedSample('curl-verify', began, bytes);
}

/**
 * The layer's own file (generated by the harness, read from the page cache after the warm-up runs)
 * copied to the destination by dd, in 16 MiB writes that bypass the page cache (O_DIRECT), with an
 * fsync at the end: how fast this disk takes these bytes for good, without a network or a digest.
 * A reference, not a ceiling: a writer that flushes behind its own writes (ours) keeps the disk
 * busier than dd's one write at a time, and was measured above it.
 */
export async function writeWithDd(layerPath: string, destination: string, bytes: number): Promise<PullSample> {
  await mkdir(destination, { recursive: true });
  const began = performance.now();
  await run('dd', [`if=${layerPath}`, `of=${path.join(destination, 'blob')}`, 'bs=16M', 'oflag=direct', 'conv=fsync', 'status=none'], { maxBuffer: MAX_OUTPUT_BYTES });
  return timedSample('disk', began, bytes);
}

async function fsyncFile(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A sample timed by this process: the whole child, its start-up included. */
function timedSample(side: Side, began: number, bytes: number): PullSample {
  const seconds = (performance.now() - began) / 1000;
  return { side, seconds, mbPerSecond: bytes / 1e6 / seconds, processSeconds: seconds };
}
