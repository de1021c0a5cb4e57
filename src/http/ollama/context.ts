/** options.num_ctx on an Ollama request -> the model's persisted context size. */
import type { LoadSpec } from '../../engine/types.js';
import { toAppError } from '../../errors.js';
import type { InferenceDeps } from '../common/inference-deps.js';

/**
 * Persists `numCtx` as the model's context size, as `_configure` would, but only when it differs
 * from what is stored: an unchanged value must not unload a warm model. A model busy with other
 * requests keeps its context until its next load; this request is served rather than refused.
 * Returns the spec to acquire with.
 */
export async function applyContextSize(deps: InferenceDeps, spec: LoadSpec, numCtx: number | undefined): Promise<LoadSpec> {
  if (numCtx === undefined || spec.settings.contextSize === numCtx) return spec;
  const settings = await deps.settings.set(spec.id, { contextSize: numCtx });
  try {
    await deps.scheduler.reconfigure(spec.id);
  } catch (err) {
    if (toAppError(err).code !== 'conflict') throw err;
    deps.logger.warn('num_ctx saved; the model is busy and keeps its context until it reloads', { model: spec.name, numCtx });
  }
  return { ...spec, settings };
}
