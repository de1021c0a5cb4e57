/** The `ls` table: one row per tag (untagged models get "<none>"), as Docker's CLI prints it. */
import type { DockerModel } from '../../openai/models.js';
import { displayModelName, formatRelativeTime, formatTable, shortId } from './display.js';

/**
 * A model as GET /models and GET /models/{name} return it (Docker's shape), read defensively:
 * Docker's Go server sends null for a model without tags, and the config may be missing.
 */
export interface ModelJson extends Omit<DockerModel, 'tags' | 'config'> {
  tags: string[] | null;
  config?: DockerModel['config'];
}

export const MODEL_TABLE_HEADERS = ['ID', 'MODEL', 'PARAMETERS', 'QUANTIZATION', 'ARCHITECTURE', 'CREATED', 'SIZE'];

/** The display name without its tag: "smollm2:360M" -> "smollm2"; a registry port stays. */
function withoutTag(name: string): string {
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(0, colon) : name;
}

/**
 * Whether a model matches the `ls MODEL` filter: an ID prefix, or a tag equal to the filter
 * (with or without its tag part) once both are shown the short way.
 */
export function matchesFilter(model: ModelJson, filter: string): boolean {
  const wanted = displayModelName(filter.trim());
  if (wanted === '') return true;
  const idPrefix = wanted.replace(/^sha256:/, '');
  if (/^[0-9a-f]+$/.test(idPrefix) && model.id.replace(/^sha256:/, '').startsWith(idPrefix)) return true;
  return (model.tags ?? []).some((tag) => {
    const shown = displayModelName(tag);
    return shown === wanted || withoutTag(shown) === wanted;
  });
}

/** Rows for the table; `now` (ms) makes CREATED testable. */
export function modelRows(models: ModelJson[], now: number = Date.now()): string[][] {
  const rows: string[][] = [];
  for (const model of models) {
    const config = model.config ?? {};
    const created = typeof model.created === 'number' && model.created > 0 ? formatRelativeTime(model.created * 1000, now) : '';
    const names = model.tags && model.tags.length > 0 ? model.tags.map(displayModelName) : ['<none>'];
    for (const name of names) {
      rows.push([shortId(model.id), name, config.parameters ?? '', config.quantization ?? '', config.architecture ?? '', created, config.size ?? '']);
    }
  }
  return rows;
}

export function formatModelTable(models: ModelJson[], now: number = Date.now()): string {
  return formatTable(MODEL_TABLE_HEADERS, modelRows(models, now));
}

/** `ls -q`: each model's short ID once, in list order. */
export function quietIds(models: ModelJson[]): string {
  const ids = [...new Set(models.map((model) => shortId(model.id)))];
  return ids.map((id) => `${id}\n`).join('');
}
