/**
 * The two pullers under test, each run as its own process into a fresh destination:
 * ours (scripts/bench-pull/pull-once.ts: Catalog.pull into a new store) and
 * `skopeo copy docker://REF oci:DIR:latest`. Each returns seconds and MB/s (MB = 10^6 B).
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

export type Side = 'ours' | 'skopeo';

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
}

export async function pullWithOurs(reference: string, destination: string, bytes: number, settings: OursSettings): Promise<PullSample> {
  const args = ['--import', 'tsx', PULL_ONCE, '--ref', reference, '--store', destination];
  if (settings.concurrency !== undefined) args.push('--concurrency', String(settings.concurrency));
  if (settings.chunkBytes !== undefined) args.push('--chunk-bytes', String(settings.chunkBytes));
  const began = performance.now();
  const { stdout } = await run(process.execPath, args, { maxBuffer: MAX_OUTPUT_BYTES });
  const processSeconds = (performance.now() - began) / 1000;
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as PullOnceResult;
  return { side: 'ours', seconds: result.seconds, mbPerSecond: bytes / 1e6 / result.seconds, processSeconds, commitSeconds: result.commitSeconds };
}

/** skopeo has no in-process clock to read: its time is the whole process, a few ms of start-up included. */
export async function pullWithSkopeo(reference: string, destination: string, bytes: number): Promise<PullSample> {
  // skopeo creates the layout directory but refuses a missing parent.
  await mkdir(path.dirname(destination), { recursive: true });
  const began = performance.now();
  await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${reference}`, `oci:${destination}:latest`], { maxBuffer: MAX_OUTPUT_BYTES });
  const seconds = (performance.now() - began) / 1000;
  return { side: 'skopeo', seconds, mbPerSecond: bytes / 1e6 / seconds, processSeconds: seconds };
}
