/** options.num_ctx on an Ollama request -> the model's persisted context size. */
import type { LoadSpec } from '../../engine/types.js';
import type { OllamaDeps } from './deps.js';

/**
 * Persists `numCtx` as the model's context size through the model service, as `_configure`
 * would, but only when it differs from what is stored: an unchanged value must not unload a warm
 * model. A model busy with other requests keeps its context until its next load; unlike
 * `_configure`, this request is served rather than refused. Returns the spec to acquire with.
 */
export async function applyContextSize(deps: OllamaDeps, spec: LoadSpec, numCtx: number | undefined): Promise<LoadSpec> {
  if (numCtx === undefined || spec.settings.contextSize === numCtx) return spec;
  const { settings, pending } = await deps.catalog.configure(spec.id, { contextSize: numCtx });
  if (pending) deps.logger.warn('num_ctx saved; the model is busy and keeps its context until it reloads', { model: spec.name, numCtx });
  return { ...spec, settings };
}
