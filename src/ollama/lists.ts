/** GET /api/tags and GET /api/ps bodies, from the model list and the scheduler's view. */
import { parseDurationMs } from '../util/units.js';
import { type ModelSummary, type OllamaDetails, parseSizeText, toOllamaDetails } from './details.js';
import { digestHex, displayName } from './names.js';

/** What the scheduler says of one loaded model (its /engines/ps entry satisfies this). */
export interface RunningModelEntry {
  /** Model ID (sha256:...). */
  id: string;
  /** The reference it was loaded by. */
  name: string;
  contextSize: number;
  memoryBytes: number;
  /** The keep-alive in force, as a duration string. */
  keepAlive: string;
  /** ISO time it will be unloaded when idle; null while in use or when kept forever. */
  expiresAt: string | null;
}

export interface OllamaTag {
  name: string;
  model: string;
  /** RFC 3339 time the model was created (its config's timestamp). */
  modified_at: string;
  size: number;
  digest: string;
  details: OllamaDetails;
}

export interface OllamaRunning {
  name: string;
  model: string;
  /** Bytes the loaded model takes in memory. */
  size: number;
  digest: string;
  details: OllamaDetails;
  expires_at: string;
  /** Inference runs on the CPU here; no bytes live in GPU memory. */
  size_vram: number;
  context_length: number;
}

function isoFromUnixSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** One entry per tag, as Ollama lists them; a model without tags has no name to list it by. */
export function toOllamaTags(models: readonly ModelSummary[]): { models: OllamaTag[] } {
  const entries: OllamaTag[] = [];
  for (const model of models) {
    const details = toOllamaDetails(model.config);
    for (const tag of model.tags) {
      const name = displayName(tag);
      entries.push({
        name,
        model: name,
        modified_at: isoFromUnixSeconds(model.created),
        size: parseSizeText(model.config.size),
        digest: digestHex(model.id),
        details,
      });
    }
  }
  return { models: entries };
}

/** Ollama prints a time this far away for models kept loaded forever. */
export const FOREVER_ISO = '2318-11-26T00:00:00.000Z';

export interface PsOptions {
  /** The current time, for models in use whose idle timer has not started. Defaults to Date.now(). */
  now?: number;
}

/** While a model is in use its timer has not started; Ollama shows when it would end if released now. */
function expiresAt(entry: RunningModelEntry, now: number): string {
  if (entry.expiresAt !== null) return entry.expiresAt;
  let ms: number;
  try {
    ms = parseDurationMs(entry.keepAlive, 'keep_alive');
  } catch {
    return FOREVER_ISO;
  }
  return ms < 0 ? FOREVER_ISO : new Date(now + ms).toISOString();
}

/** The tag the model was loaded by when it is one of its tags (spelled any way), else its first tag. */
function runningName(entry: RunningModelEntry, model: ModelSummary | undefined): string {
  const wanted = displayName(entry.name);
  const tag = model?.tags.find((t) => displayName(t) === wanted) ?? model?.tags[0];
  return tag === undefined ? wanted : displayName(tag);
}

export function toOllamaPs(entries: readonly RunningModelEntry[], models: readonly ModelSummary[], options: PsOptions = {}): { models: OllamaRunning[] } {
  const now = options.now ?? Date.now();
  const byId = new Map(models.map((m) => [m.id, m]));
  return {
    models: entries.map((entry) => {
      const model = byId.get(entry.id);
      const name = runningName(entry, model);
      return {
        name,
        model: name,
        size: entry.memoryBytes,
        digest: digestHex(entry.id),
        details: toOllamaDetails(model?.config ?? {}),
        expires_at: expiresAt(entry, now),
        size_vram: 0,
        context_length: entry.contextSize,
      };
    }),
  };
}
