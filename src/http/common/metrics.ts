/**
 * Prometheus metrics of this server. Each call to createMetrics owns its own Registry, so
 * several servers (tests) in one process never share or double-register metrics.
 */
import { type RequestHandler, type Router, Router as createRouter } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Timings, Usage } from '../../engine/types.js';

/** Prefix of every metric name, so ours are easy to tell from process defaults. */
export const METRIC_PREFIX = 'model_runner_';

/** Time to first token rarely exceeds a minute even for long prompts on CPU. */
const TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];
/** From slow CPU generation to fast GPU generation. */
const TOKENS_PER_SECOND_BUCKETS = [1, 2, 5, 10, 20, 40, 80, 160, 320, 640];

/** Callbacks read at scrape time, so gauges never go stale. */
export interface MetricCollectors {
  /** Models currently loaded (or loading). Defaults to reporting 0. */
  loadedModels?: () => number;
  /** Requests waiting for a model to become available. Defaults to reporting 0. */
  queueDepth?: () => number;
}

export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly promptTokens: Counter<'model'>;
  readonly generatedTokens: Counter<'model'>;
  readonly timeToFirstToken: Histogram<'model'>;
  readonly tokensPerSecond: Histogram<'model'>;
  /**
   * Generations ended, by model ID and finish reason, counted by the engine whether or not a
   * client read the end: 'abort' is a generation stopped because its client went away.
   */
  readonly generations: Counter<'model' | 'finish_reason'>;
  /** Bytes the puller wrote into the store. */
  readonly pullBytes: Counter;
  setCollectors(collectors: MetricCollectors): void;
  /**
   * Records one finished generation from its done event, labelled with the resolved model's ID
   * (its sha256 digest). Never the name the request used: names are caller-chosen strings (an
   * alias, a tag, an ID prefix), and a label per distinct string would grow without bound.
   */
  observeGeneration(model: { id: string }, usage: Usage, timings: Timings): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let collectors: MetricCollectors = {};
  const registers = [registry];

  const httpRequests = new Counter({
    name: `${METRIC_PREFIX}http_requests_total`,
    help: 'HTTP requests answered, by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers,
  });
  // Per-model series are labelled with model IDs only (see observeGeneration): one series per
  // model in the store, whatever names the requests used.
  const promptTokens = new Counter({
    name: `${METRIC_PREFIX}prompt_tokens_total`,
    help: 'Prompt tokens processed, by model',
    labelNames: ['model'] as const,
    registers,
  });
  const generatedTokens = new Counter({
    name: `${METRIC_PREFIX}generated_tokens_total`,
    help: 'Tokens generated, by model',
    labelNames: ['model'] as const,
    registers,
  });
  const timeToFirstToken = new Histogram({
    name: `${METRIC_PREFIX}time_to_first_token_seconds`,
    help: 'Seconds from a request reaching the model to its first generated token',
    labelNames: ['model'] as const,
    buckets: TTFT_BUCKETS,
    registers,
  });
  const tokensPerSecond = new Histogram({
    name: `${METRIC_PREFIX}generation_tokens_per_second`,
    help: 'Generation speed of each request, in tokens per second',
    labelNames: ['model'] as const,
    buckets: TOKENS_PER_SECOND_BUCKETS,
    registers,
  });
  const generations = new Counter({
    name: `${METRIC_PREFIX}generations_total`,
    help: 'Generations ended, by model and finish reason (abort: stopped because the client went away)',
    labelNames: ['model', 'finish_reason'] as const,
    registers,
  });
  const pullBytes = new Counter({
    name: `${METRIC_PREFIX}pull_bytes_total`,
    help: 'Bytes downloaded into the model store',
    registers,
  });
  new Gauge({
    name: `${METRIC_PREFIX}loaded_models`,
    help: 'Models loaded in memory',
    registers,
    collect() {
      this.set(collectors.loadedModels?.() ?? 0);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}queue_depth`,
    help: 'Requests waiting for a model slot',
    registers,
    collect() {
      this.set(collectors.queueDepth?.() ?? 0);
    },
  });

  return {
    registry,
    httpRequests,
    promptTokens,
    generatedTokens,
    timeToFirstToken,
    tokensPerSecond,
    generations,
    pullBytes,
    setCollectors(next) {
      collectors = { ...collectors, ...next };
    },
    observeGeneration({ id: model }, usage, timings) {
      promptTokens.inc({ model }, usage.promptTokens);
      generatedTokens.inc({ model }, usage.completionTokens);
      if (usage.completionTokens > 0) timeToFirstToken.observe({ model }, timings.timeToFirstTokenMs / 1000);
      // A generation of zero measured time has no meaningful speed; skip it rather than record Infinity.
      if (usage.completionTokens > 0 && timings.generationMs > 0) {
        tokensPerSecond.observe({ model }, usage.completionTokens / (timings.generationMs / 1000));
      }
    },
  };
}

/** GET /metrics in the Prometheus text format. */
/** Counts each request once it ends, under a stable route label whichever path prefix it came by. */
export function countRequests(metrics: Metrics, route: string): RequestHandler {
  return (req, res, next) => {
    res.on('close', () => {
      metrics.httpRequests.inc({ route, method: req.method, status: String(res.statusCode) });
    });
    next();
  };
}

export function createMetricsRouter(metrics: Metrics): Router {
  const router = createRouter();
  router.get('/metrics', async (_req, res, next) => {
    try {
      const text = await metrics.registry.metrics();
      res.status(200).type(metrics.registry.contentType).send(text);
    } catch (err) {
      next(err);
    }
  });
  return router;
}
