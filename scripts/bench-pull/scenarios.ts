/**
 * The two places the benchmark pulls from, started with the test harness and filled with the
 * same artifact: (a) the anonymous registry served directly, and (b) the token registry whose
 * blob GETs redirect to the fake CDN, which paces every connection (as a real CDN caps each
 * one). The registries run in this process's children and the CDN in this process, never in
 * the puller's.
 */
import { promises as fs } from 'node:fs';
import { pushArtifact, startRegistry, type TestRegistry } from '../../test/support/registry-harness.js';
import type { BenchArtifact } from './artifact.js';

export type ScenarioName = 'direct' | 'throttled-cdn';

export const SCENARIO_NAMES: readonly ScenarioName[] = ['direct', 'throttled-cdn'];

export interface Scenario {
  name: ScenarioName;
  /** One line for the table. */
  description: string;
  /** "127.0.0.1:PORT/bench/big:latest". */
  reference: string;
  registry: TestRegistry;
}

const REPOSITORY = 'bench/big';
const TAG = 'latest';

/** A config the catalog accepts: the layer is random bytes, so the values are only plausible. */
function benchConfig(artifact: BenchArtifact): Record<string, unknown> {
  return {
    config: { format: 'gguf', quantization: 'F16', parameters: '250M', architecture: 'llama', size: `${(artifact.size / 1e6).toFixed(0)}MB` },
    descriptor: { created: '2025-01-01T00:00:00Z' },
    rootfs: { type: 'rootfs', diff_ids: [artifact.digest] },
  };
}

/** Starts the scenario's registry and pushes the artifact; `throttle` is bytes/s per CDN connection. */
export async function startScenario(name: ScenarioName, artifact: BenchArtifact, throttle: number): Promise<Scenario> {
  const registry = await startRegistry(name === 'direct' ? 'anonymous' : 'token', { redirectToCdn: true });
  try {
    const layer = await fs.readFile(artifact.layerPath);
    const pushed = await pushArtifact(registry, REPOSITORY, TAG, { layers: [layer], config: benchConfig(artifact) });
    if (pushed.layerDigests[0] !== artifact.digest) throw new Error(`pushed layer ${pushed.layerDigests[0]} but the artifact is ${artifact.digest}`);
    let description = 'anonymous registry, blobs served directly';
    if (name === 'throttled-cdn') {
      registry.cdn!.throttleBytesPerSecond = throttle;
      description = `token registry, blobs via 307 to a CDN capped at ${(throttle / 1e6).toFixed(0)} MB/s per connection`;
    }
    return { name, description, reference: registry.reference(REPOSITORY, TAG), registry };
  } catch (err) {
    await registry.stop();
    throw err;
  }
}
