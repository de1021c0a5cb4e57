/**
 * The pullers under test, each run as its own process into a fresh destination: ours
 * (scripts/bench-pull/pull-once.ts: Catalog.pull into a new store), `skopeo copy docker://REF
 * oci:DIR:latest`, and, as the ceiling of what the link and the disk allow, curl writing the
 * blob to a file. Each returns seconds and MB/s (MB = 10^6 B).
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { PullOnceResult } from './pull-once.js';

const run = promisify(execFile);
const PULL_ONCE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pull-once.ts');
/** Output of a child beyond this is a bug, not a result. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export type Side = 'ours' | 'skopeo' | 'curl';

export interface PullSample {
  side: Side;
  seconds: number;
  mbPerSecond: number;
  /** Process wall time, start-up included. */
  processSeconds: number;
  /** Ours only: time inside the store's commit (fsync + rename). */
  commitSeconds?: number;
}

export interface OursSettings {
  /** Passed to RegistryClient when set; its defaults otherwise. */
  concurrency?: number;
  chunkBytes?: number;
  /** HTTP_PROXY and HTTPS_PROXY for the pull. Defaults to none. */
  proxyUrl?: string;
}

export async function pullWithOurs(reference: string, destination: string, bytes: number, settings: OursSettings): Promise<PullSample> {
  const args = ['--import', 'tsx', PULL_ONCE, '--ref', reference, '--store', destination];
  if (settings.concurrency !== undefined) args.push('--concurrency', String(settings.concurrency));
  if (settings.chunkBytes !== undefined) args.push('--chunk-bytes', String(settings.chunkBytes));
  if (settings.proxyUrl !== undefined) args.push('--proxy', settings.proxyUrl);
  const began = performance.now();
  const { stdout } = await run(process.execPath, args, { maxBuffer: MAX_OUTPUT_BYTES });
  const processSeconds = (performance.now() - began) / 1000;
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as PullOnceResult;
  return { side: 'ours', seconds: result.seconds, mbPerSecond: bytes / 1e6 / result.seconds, processSeconds, commitSeconds: result.commitSeconds };
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

/** One GET of the blob written to a file (no digest check, no fsync): the link's and the disk's pace. */
export async function pullWithCurl(blobUrl: string, destination: string, bytes: number): Promise<PullSample> {
  await mkdir(destination, { recursive: true });
  const began = performance.now();
  await run('curl', ['-sS', '--fail', '-o', path.join(destination, 'blob'), blobUrl], { maxBuffer: MAX_OUTPUT_BYTES });
  const seconds = (performance.now() - began) / 1000;
  return { side: 'curl', seconds, mbPerSecond: bytes / 1e6 / seconds, processSeconds: seconds };
}
