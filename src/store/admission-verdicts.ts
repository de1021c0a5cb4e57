/**
 * Where the admission check's verdicts live: admission/sha256/<hex>.json under the store root, one
 * file per model weights digest, holding the engine fingerprint the verdicts were made with and
 * one verdict per mode. Docker Model Runner's code ignores the directory. Writes are atomic; an
 * unreadable or foreign file reads as "no verdict", so the worst a damaged file costs is a check.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readJsonFile, writeFileAtomic } from '../util/atomic-file.js';
import { hexOf } from './paths.js';

export const ADMISSION_DIR = path.join('admission', 'sha256');

export interface StoredVerdict {
  admitted: boolean;
  /** Why the model was refused; absent when admitted. */
  reason?: string;
  /** ISO time of the check. */
  checkedAt: string;
  /** How long the check took, in milliseconds. */
  millis: number;
  /**
   * The chat wrapper type the check's load found for the file (admitted only): the model's first
   * load tests only that one instead of searching them all (node-llama-cpp confirms it either way).
   */
  chatWrapperType?: string;
}

export interface StoredVerdicts {
  /** What the verdicts were made with; a different engine means check again. */
  engine: string;
  verdicts: Partial<Record<string, StoredVerdict>>;
}

export class AdmissionVerdictFiles {
  private readonly dir: string;

  constructor(storeRoot: string) {
    this.dir = path.join(storeRoot, ADMISSION_DIR);
  }

  /** The verdicts for `digest` made with `engine`, or undefined when there are none. */
  async read(digest: string, engine: string): Promise<StoredVerdicts['verdicts'] | undefined> {
    const stored = await readJsonFile<StoredVerdicts>(this.fileOf(digest)).catch(() => undefined);
    if (!stored || stored.engine !== engine || typeof stored.verdicts !== 'object' || stored.verdicts === null) return undefined;
    return stored.verdicts;
  }

  /** Records one mode's verdict, keeping the other modes' when they were made with the same engine. */
  async write(digest: string, engine: string, mode: string, verdict: StoredVerdict): Promise<void> {
    const verdicts = { ...((await this.read(digest, engine)) ?? {}), [mode]: verdict };
    await fs.mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.fileOf(digest), `${JSON.stringify({ engine, verdicts } satisfies StoredVerdicts, null, 2)}\n`);
  }

  private fileOf(digest: string): string {
    return path.join(this.dir, `${hexOf(digest)}.json`);
  }
}
