/**
 * Admission of model files: a model runs in-process only after the engine's admission check (a
 * short-lived child process that loads it and decodes a couple of tokens) found that it does not
 * crash or hang the engine. Verdicts are kept in the store by weights digest and engine
 * fingerprint, so a model is checked once per engine build and mode: right after a pull, load or
 * upload, or at its first load when it has no verdict yet. Later loads pay a map lookup.
 */
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { AdmissionVerdictFiles, type StoredVerdict } from '../store/index.js';
import type { ModelStore } from '../store/types.js';
import type { AdmissionVerdict, ModelMode } from '../engine/index.js';
import { Semaphore } from '../util/semaphore.js';
import { SingleFlight } from '../util/single-flight.js';

/** Runs the engine's check on one file; given by the composition root (models never runs the engine itself). */
export type AdmissionRunner = (input: { modelPath: string; mode: ModelMode; signal?: AbortSignal }) => Promise<AdmissionVerdict>;

export interface ModelAdmissionOptions {
  store: ModelStore;
  run: AdmissionRunner;
  /** The engine fingerprint verdicts are filed under; another fingerprint means check again. */
  engine: string;
  logger: Logger;
  /** Checks running at once (each maps a model into memory). Defaults to 1. */
  concurrency?: number;
}

/** One model file to admit. */
export interface AdmissionTarget {
  /** The name the user asked for, for messages. */
  name: string;
  /** Digest of the model's weights (its GGUF blob, or the first shard's). */
  digest: string;
  modelPath: string;
  mode: ModelMode;
}

export class ModelAdmission {
  private readonly files: AdmissionVerdictFiles;
  private readonly known = new Map<string, StoredVerdict>();
  private readonly flights = new SingleFlight<string, StoredVerdict>();
  private readonly slots: Semaphore;

  constructor(private readonly options: ModelAdmissionOptions) {
    this.files = new AdmissionVerdictFiles(options.store.root);
    this.slots = new Semaphore(options.concurrency ?? 1);
  }

  /**
   * Resolves with the verdict when the model may run in-process; throws 'unsupported' (422) naming
   * the cause when the check refused it. `onChecking` is told when a check actually runs (not for a
   * cached verdict).
   */
  async ensure(target: AdmissionTarget, onChecking?: () => void): Promise<StoredVerdict> {
    const verdict = await this.verdictFor(target, onChecking);
    if (!verdict.admitted) {
      // Verdicts are per mode: an embedding refusal says so, since the model may still chat.
      const how = target.mode === 'embedding' ? ' as an embedding model' : target.mode === 'reranking' ? ' as a reranker' : '';
      throw new AppError('unsupported', `model ${target.name} cannot run here${how}: ${verdict.reason ?? 'it failed the admission check'}`, {
        data: { admission: 'refused' },
      });
    }
    return verdict;
  }

  private async verdictFor(target: AdmissionTarget, onChecking?: () => void): Promise<StoredVerdict> {
    const key = `${target.digest} ${target.mode}`;
    const cached = this.known.get(key);
    if (cached) return cached;
    return this.flights.run(key, async () => {
      const stored = (await this.files.read(target.digest, this.options.engine))?.[target.mode];
      if (stored) {
        this.known.set(key, stored);
        return stored;
      }
      onChecking?.();
      const verdict = await this.check(target);
      const record: StoredVerdict = {
        admitted: verdict.admitted,
        ...(verdict.admitted ? {} : { reason: verdict.reason }),
        checkedAt: new Date().toISOString(),
        millis: verdict.millis,
        ...(verdict.admitted && verdict.chatWrapperType ? { chatWrapperType: verdict.chatWrapperType } : {}),
      };
      await this.files.write(target.digest, this.options.engine, target.mode, record);
      this.known.set(key, record);
      return record;
    });
  }

  private async check(target: AdmissionTarget): Promise<AdmissionVerdict> {
    const release = await this.slots.acquire();
    try {
      const verdict = await this.options.run({ modelPath: target.modelPath, mode: target.mode });
      const fields = { model: target.name, digest: target.digest, mode: target.mode, millis: verdict.millis };
      if (verdict.admitted) this.options.logger.info('model admitted', fields);
      else this.options.logger.warn('model refused by the admission check', { ...fields, reason: verdict.reason });
      return verdict;
    } finally {
      release();
    }
  }
}
