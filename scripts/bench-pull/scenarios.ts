/**
 * The places the benchmark pulls from, started with the test harness and filled with a layer of
 * the scenario's size:
 * - direct: the anonymous registry serving a 500 MB blob itself (our puller against skopeo, and
 *   against curl writing the blob to a file, with and without an fsync: what the link and the
 *   disk allow; and dd writing the same bytes to the disk: what a durable write costs here);
 * - cdn-144mb and cdn-1gb: the token registry redirecting blob GETs to the fake CDN, which caps
 *   every connection (as a real CDN does), for a mid-size and a large model;
 * - proxy: the 144 MB CDN case with every hop of our pull going through tinyproxy.
 * The registries and the proxy run in this process's children and the CDN in this process, never
 * in the puller's.
 */
import { promises as fs } from 'node:fs';
import { pushArtifact, startRegistry, type TestRegistry } from '../../test/support/registry-harness.js';
import { startTinyproxy, type TestProxy } from '../../test/support/tinyproxy.js';
import type { BenchArtifact } from './artifact.js';
import type { Side } from './pullers.js';

export type ScenarioName = 'direct' | 'cdn-144mb' | 'cdn-1gb' | 'proxy';

export interface ScenarioSpec {
  name: ScenarioName;
  /** Layer size in bytes. */
  bytes: number;
  /** Whether the token registry redirects blobs to the capped CDN (else the anonymous registry serves them). */
  cdn: boolean;
  /** Whether our pull goes through the proxy. */
  proxy: boolean;
  /** Who pulls. */
  sides: Side[];
  /** Ours/skopeo ratio to reach. */
  goal: number;
  /** Runs are capped at this many (a 1 GB layer through an 8 MB/s cap takes skopeo two minutes a run). */
  maxRuns: number;
  /**
   * One unrecorded pull per side first: the first sub-second pull after a scenario starts was the
   * slowest for every side (1.0-1.6 s against 0.5-0.7 s later), whoever went first.
   */
  warmup: boolean;
}

export const SCENARIOS: Record<ScenarioName, ScenarioSpec> = {
  direct: { name: 'direct', bytes: 500_000_000, cdn: false, proxy: false, sides: ['ours', 'skopeo', 'curl', 'curl-fsync', 'curl-verify', 'disk'], goal: 2, maxRuns: Infinity, warmup: true },
  'cdn-144mb': { name: 'cdn-144mb', bytes: 144_000_000, cdn: true, proxy: false, sides: ['ours', 'skopeo'], goal: 3, maxRuns: Infinity, warmup: false },
  'cdn-1gb': { name: 'cdn-1gb', bytes: 1_000_000_000, cdn: true, proxy: false, sides: ['ours', 'skopeo'], goal: 6, maxRuns: 1, warmup: false },
  proxy: { name: 'proxy', bytes: 144_000_000, cdn: true, proxy: true, sides: ['ours', 'skopeo'], goal: 3, maxRuns: Infinity, warmup: false },
};

export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];

/** What our /ours/ curl ratio should reach in the direct scenario. */
export const CURL_GOAL = 0.8;

export interface Scenario {
  spec: ScenarioSpec;
  /** One line for the table. */
  description: string;
  /** "127.0.0.1:PORT/bench/big:latest". */
  reference: string;
  /** The blob's URL on the registry (for curl). */
  blobUrl: string;
  /** "http://127.0.0.1:PORT" when our pull goes through the proxy. */
  proxyUrl?: string;
  /** Requests the proxy relayed so far (to show it was used). */
  proxyRequests?: () => number;
  stop(): Promise<void>;
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

/** Starts the scenario's registry (and proxy) and pushes the artifact; `throttle` is bytes/s per CDN connection. */
export async function startScenario(spec: ScenarioSpec, artifact: BenchArtifact, throttle: number): Promise<Scenario> {
  const registry: TestRegistry = await startRegistry(spec.cdn ? 'token' : 'anonymous', { redirectToCdn: true });
  let proxy: TestProxy | undefined;
  const stop = async (): Promise<void> => {
    await Promise.all([registry.stop(), proxy?.stop()]);
  };
  try {
    const layer = await fs.readFile(artifact.layerPath);
    const pushed = await pushArtifact(registry, REPOSITORY, TAG, { layers: [layer], config: benchConfig(artifact) });
    if (pushed.layerDigests[0] !== artifact.digest) throw new Error(`pushed layer ${pushed.layerDigests[0]} but the artifact is ${artifact.digest}`);
    const size = `${(artifact.size / 1e6).toFixed(0)} MB layer`;
    let description = `${size}, anonymous registry, blobs served directly`;
    if (spec.cdn) {
      registry.cdn!.throttleBytesPerSecond = throttle;
      description = `${size}, token registry, blobs via 307 to a CDN capped at ${(throttle / 1e6).toFixed(0)} MB/s per connection`;
    }
    if (spec.proxy) {
      proxy = await startTinyproxy();
      description += '; ours through tinyproxy (skopeo, being Go, never proxies loopback addresses, so it goes direct)';
    }
    return {
      spec,
      description,
      reference: registry.reference(REPOSITORY, TAG),
      blobUrl: `http://${registry.url}/v2/${REPOSITORY}/blobs/${artifact.digest}`,
      proxyUrl: proxy?.url,
      proxyRequests: proxy && (() => proxy!.requests().length),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
