/**
 * Docker Model Runner's delete semantics: deleting by tag only untags while other tags remain;
 * deleting by ID (or digest) a model that several tags name needs `force`; otherwise the model,
 * its manifest, its bundle and every blob no other model shares are removed.
 */
import { AppError } from '../errors.js';
import type { ModelStore } from '../store/types.js';
import type { ResolvedModel } from './resolve.js';

/** One line of the answer: `{"Untagged":"docker.io/ai/x:latest"}` or `{"Deleted":"sha256:..."}`. */
export type DeleteAction = { Untagged: string } | { Deleted: string };

export interface DeleteOptions {
  /** Delete by ID even when several tags name the model. Defaults to false. */
  force?: boolean;
}

/**
 * Whether deleting `resolved` removes the model rather than only untagging it: by tag, only when
 * that tag is its last; by ID, when the model has at most one tag or the delete is forced
 * (otherwise deleteResolved refuses with a conflict).
 */
export function deleteRemovesModel(resolved: ResolvedModel, force: boolean): boolean {
  const tagCount = resolved.entry.tags.length;
  return resolved.tag !== undefined ? tagCount <= 1 : tagCount <= 1 || force;
}

export async function deleteResolved(
  store: ModelStore,
  name: string,
  resolved: ResolvedModel,
  options: DeleteOptions = {},
): Promise<DeleteAction[]> {
  const { entry } = resolved;
  const actions: DeleteAction[] = [];
  if (resolved.tag !== undefined) {
    await store.removeTag(resolved.tag);
    actions.push({ Untagged: resolved.tag });
    if (entry.tags.length > 1) return actions;
  } else if (entry.tags.length > 1 && !options.force) {
    throw new AppError(
      'conflict',
      `unable to delete ${JSON.stringify(name)} (must be forced) due to multiple tag references: ${entry.tags.join(', ')}`,
    );
  }
  const remaining = resolved.tag === undefined ? entry.tags : entry.tags.filter((t) => t !== resolved.tag);
  await store.deleteModel(entry.id);
  for (const tag of remaining) actions.push({ Untagged: tag });
  actions.push({ Deleted: entry.id });
  return actions;
}
