/**
 * node-llama-cpp learns what a model and its first context will take by rehearsing them in
 * llama.cpp: before it loads a model it reads the file's metadata natively and loads the model a
 * second time without its weights (the vocabulary included), and before a model's first context it
 * creates a context without buffers. That is its way of fitting layers into VRAM. On a CPU-only
 * engine it fits nothing (no layers to place), and what fits in memory is the scheduler's call,
 * made on its own estimate (../memory-estimate.ts); yet the two rehearsals cost 150-180 ms of every
 * cold load of a 135M-parameter model on 2 vCPUs (80-110 ms for the model, 60-90 ms for the first
 * context), more than half of the load.
 *
 * So on a CPU-only engine that serves models they are skipped: node-llama-cpp's source for the
 * rehearsal reports none, which is its own fallback (it then estimates from tensor sizes,
 * arithmetic only). That estimate knows nothing of the unified KV cache, so wherever the rehearsals
 * are skipped load.ts also turns node-llama-cpp's own memory checks off, rather than let them refuse
 * a context on a figure four times too large. With a GPU everything runs as node-llama-cpp made it.
 *
 * node-llama-cpp offers no option for this, hence a replaced method on its GgufInsights class
 * (one instance per model, created inside loadModel); the version is pinned, and a test holds the
 * method to existing. The engines that serve models switch it on (worker/main.ts, engine-child.ts);
 * the admission check's child does not: it loads files nobody has loaded yet, its time is nobody's
 * first token, and it keeps node-llama-cpp's own path.
 */
import { GgufInsights } from '#node-llama-cpp';

type SimulatorSource = (this: InsightsInternals) => Promise<unknown>;
interface InsightsInternals {
  _llama: { gpu: unknown };
  _resolveSimulatorSource?: SimulatorSource;
}

const SKIPPING = Symbol('skips the resource simulation on CPU');

/** Told when skipResourceSimulationOnCpu cannot take effect. */
const SIMULATION_KEPT_WARNING = "node-llama-cpp's resource simulation cannot be skipped in this version: every load pays for it";

/** Whether this process skips the rehearsals on CPU. */
export function resourceSimulationSkipped(): boolean {
  return (GgufInsights.prototype as unknown as { [SKIPPING]?: true })[SKIPPING] === true;
}

/**
 * Makes every CPU-only model of this process skip node-llama-cpp's resource rehearsals
 * (idempotent). Returns false, after passing a warning to `warn`, when this node-llama-cpp has no
 * such method: the rehearsals then run and loads are only slower.
 */
export function skipResourceSimulationOnCpu(warn?: (message: string) => void): boolean {
  const proto = GgufInsights.prototype as unknown as InsightsInternals & { [SKIPPING]?: true };
  const original = proto._resolveSimulatorSource;
  if (typeof original !== 'function') {
    warn?.(SIMULATION_KEPT_WARNING);
    return false;
  }
  if (proto[SKIPPING]) return true;
  proto._resolveSimulatorSource = function (this: InsightsInternals) {
    return this._llama.gpu === false ? Promise.resolve(null) : original.call(this);
  };
  proto[SKIPPING] = true;
  return true;
}
