/**
 * The rule that picks the binaries: the local build is used only when it is not slower than the
 * prebuilt binaries on any figure, allowing TOLERANCE for noise between runs. One figure that is
 * worse is enough to keep the prebuilt ones: a faster prompt does not pay for a slower decode.
 */
import type { NativeBuildMeasurement } from '../../src/engine/worker/native-build.js';

/** Run-to-run noise on a quiet 2-core VM stays under this share of a figure. */
export const TOLERANCE = 0.03;

export interface Decision {
  decision: 'local' | 'prebuilt';
  reason: string;
}

export function decide(measurements: NativeBuildMeasurement[], tolerance: number = TOLERANCE): Decision {
  if (measurements.length === 0) return { decision: 'prebuilt', reason: 'nothing was measured' };
  const slower = measurements.filter((m) => !(m.local >= m.prebuilt * (1 - tolerance)));
  if (slower.length === 0) {
    return { decision: 'local', reason: `the local build is within ${tolerance * 100}% of the prebuilt binaries or faster on every figure (${ratios(measurements)})` };
  }
  return { decision: 'prebuilt', reason: `the local build is slower at ${ratios(slower)}` };
}

/** "q8_0 decode 0.61x, f16 prompt 1.02x": local over prebuilt, per figure. */
export function ratios(measurements: NativeBuildMeasurement[]): string {
  return measurements.map((m) => `${m.model} ${m.metric} ${(m.local / m.prebuilt).toFixed(2)}x`).join(', ');
}
