/**
 * The rule that picks the binaries. Each figure (prompt and decode speed per weight type) is
 * measured in several runs, the two builds alternating; a figure's ratio is local over prebuilt of
 * the medians, and its interval spans the ratios of the paired runs, which shows the noise.
 *
 * The local build is used when the figures together favour it (their geometric mean is at least
 * 1 - COMBINED_TOLERANCE) and no figure is clearly worse (its whole interval below 1 - FLOOR). So a
 * 1.9x gain on one figure is not thrown away for a 4% wobble on another, while a decode that is
 * really 40% slower still keeps the prebuilt binaries. A tie goes to the local build: it also skips
 * node-llama-cpp's test-load of the binding in a child process at every engine start.
 */
import type { NativeBuildMeasurement } from '../../src/engine/worker/native-build.js';

/** Bump when the rule changes: a decision made under another rule is measured and made again. */
export const DECISION_RULE = 2;
/** A figure is vetoing only when even its best paired run is this much slower. */
export const FLOOR = 0.1;
/** Noise allowed on the combined figure. */
export const COMBINED_TOLERANCE = 0.02;

export interface Decision {
  decision: 'local' | 'prebuilt';
  reason: string;
}

export function decide(measurements: NativeBuildMeasurement[]): Decision {
  if (measurements.length === 0) return { decision: 'prebuilt', reason: 'nothing was measured' };
  const invalid = measurements.filter((m) => !(m.local > 0 && m.prebuilt > 0));
  if (invalid.length > 0) return { decision: 'prebuilt', reason: `no valid figure for ${invalid.map((m) => `${m.model} ${m.metric}`).join(', ')}` };
  const combined = Math.exp(measurements.reduce((sum, m) => sum + Math.log(m.local / m.prebuilt), 0) / measurements.length);
  const clearlySlower = measurements.filter((m) => interval(m)[1] < 1 - FLOOR);
  const summary = `${ratios(measurements)}; combined ${combined.toFixed(2)}x`;
  if (clearlySlower.length > 0) return { decision: 'prebuilt', reason: `the local build is clearly slower at ${ratios(clearlySlower)} (${summary})` };
  if (combined < 1 - COMBINED_TOLERANCE) return { decision: 'prebuilt', reason: `the local build is slower overall (${summary})` };
  return { decision: 'local', reason: `the local build is as fast or faster overall, and no figure is clearly slower (${summary})` };
}

/** [lowest, highest] ratio of the paired runs; the median ratio alone when runs were not kept. */
export function interval(m: NativeBuildMeasurement): [number, number] {
  const local = m.localRuns ?? [];
  const prebuilt = m.prebuiltRuns ?? [];
  const paired = local.slice(0, prebuilt.length).map((l, i) => l / prebuilt[i]!).filter((r) => Number.isFinite(r));
  if (paired.length === 0) return [m.local / m.prebuilt, m.local / m.prebuilt];
  return [Math.min(...paired), Math.max(...paired)];
}

/** "q8_0 decode 0.61x [0.58-0.64], f16 prompt 1.91x [1.85-1.97]": local over prebuilt, per figure. */
export function ratios(measurements: NativeBuildMeasurement[]): string {
  return measurements
    .map((m) => {
      const [low, high] = interval(m);
      const range = low === high ? '' : ` [${low.toFixed(2)}-${high.toFixed(2)}]`;
      return `${m.model} ${m.metric} ${(m.local / m.prebuilt).toFixed(2)}x${range}`;
    })
    .join(', ');
}
