/**
 * Drives one benchmark scenario: warm-up, prompt calibration, then one closed-loop run per
 * concurrency level (N clients that each send their next request as soon as the last one ended).
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { formatEndpoint, type Endpoint } from './endpoint.js';
import { streamChatCompletionResent, type StreamOutcome } from './http-client.js';
import { summarizeLevel, type LevelResult } from './metrics.js';
import { fitCalibration, generatePrompt, GUESSED_CALIBRATION, wordsForTokens, type PromptCalibration } from './prompt.js';
import { VERSION } from '../version.js';

export interface BenchOptions {
  endpoint: Endpoint;
  /** The `model` field of every request. */
  model: string;
  /** Concurrency levels, run in order. */
  concurrency: number[];
  /** Requests per level; ignored when durationMs is set. Defaults to defaultRequests(concurrency). */
  requests?: number;
  /** Run each level for this long instead of a fixed request count (in-flight requests still finish). Defaults to unset. */
  durationMs?: number;
  maxTokens: number;
  /** A fixed prompt sent with every request (a prompt cache may then hide prefill), or a token target for generated unique prompts. */
  prompt: { text: string } | { tokens: number };
  /**
   * With a token target: use this many words instead of the calibrated count. The calibration
   * probes are still sent, so a run with the same seed sends exactly the same prompts; a
   * side-by-side comparison calibrates on one server and passes its count to the other.
   */
  promptWords?: number;
  /** Sends llama-server's `ignore_eos: true` so that models generate the full max_tokens. */
  ignoreEos: boolean;
  /** Sampling temperature; the server's default when unset. */
  temperature?: number;
  /** Untimed requests before the first level; they also load the model on servers that load lazily. Defaults to 1. */
  warmup: number;
  /** Per-request limit; a request past it counts as an error. */
  timeoutMs: number;
  /** Seeds prompt generation; differs per run so that no two runs share prompts. */
  seed: number;
  /** Called with progress lines (level started, calibration). Defaults to silence. */
  onProgress?: (line: string) => void;
}

export interface BenchReport {
  tool: 'model-runner bench';
  version: string;
  startedAt: string;
  endpoint: string;
  model: string;
  maxTokens: number;
  ignoreEos: boolean;
  /** The prompt target and how it was met. */
  prompt: { fixed: boolean; targetTokens?: number; words?: number; calibration?: PromptCalibration };
  levels: LevelResult[];
}

/** Requests for a level when none are given: enough for each stream to run twice. */
export function defaultRequests(concurrency: number): number {
  return Math.max(4, 2 * concurrency);
}

/** Sends requests through one benchmark; numbers requests so that every prompt is distinct. */
class Requester {
  private index = 0;
  words = 1;

  constructor(private readonly options: BenchOptions) {}

  async send(agent: http.Agent, overrides: { words?: number; maxTokens?: number } = {}): Promise<StreamOutcome> {
    const o = this.options;
    const content = 'text' in o.prompt ? o.prompt.text : generatePrompt(overrides.words ?? this.words, this.index++, o.seed);
    const body: Record<string, unknown> = {
      model: o.model,
      messages: [{ role: 'user', content }],
      max_tokens: overrides.maxTokens ?? o.maxTokens,
      stream_options: { include_usage: true },
    };
    if (o.ignoreEos) body.ignore_eos = true;
    if (o.temperature !== undefined) body.temperature = o.temperature;
    return streamChatCompletionResent(o.endpoint, body, () => ({ agent, signal: AbortSignal.timeout(o.timeoutMs) }));
  }
}

/**
 * A connection pool for `sockets` parallel requests, without keep-alive: reusing kept-alive
 * connections to llama-server failed now and then with "socket hang up", and a fresh loopback
 * or Unix connection costs well under a millisecond.
 */
function newAgent(sockets: number): http.Agent {
  return new http.Agent({ keepAlive: false, maxSockets: sockets });
}

/** Two untimed probes of different lengths tell how many tokens a word and the chat template cost. */
async function calibrate(requester: Requester, agent: http.Agent): Promise<PromptCalibration> {
  const probes = [8, 64];
  const counts: number[] = [];
  for (const words of probes) {
    const outcome = await requester.send(agent, { words, maxTokens: 1 });
    const tokens = outcome.usage?.prompt_tokens ?? outcome.timings?.prompt_n;
    if (!outcome.ok || tokens === undefined) return GUESSED_CALIBRATION;
    counts.push(tokens);
  }
  return fitCalibration({ words: probes[0]!, tokens: counts[0]! }, { words: probes[1]!, tokens: counts[1]! });
}

async function runLevel(requester: Requester, options: BenchOptions, concurrency: number): Promise<LevelResult> {
  const agent = newAgent(concurrency);
  const outcomes: StreamOutcome[] = [];
  const deadline = options.durationMs === undefined ? undefined : performance.now() + options.durationMs;
  const total = options.requests ?? defaultRequests(concurrency);
  let started = 0;
  const more = () => (deadline === undefined ? started < total : performance.now() < deadline);
  const client = async () => {
    while (more()) {
      started++;
      outcomes.push(await requester.send(agent));
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, client));
  } finally {
    agent.destroy();
  }
  return summarizeLevel(concurrency, outcomes);
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const progress = options.onProgress ?? (() => {});
  const requester = new Requester(options);
  const startedAt = new Date().toISOString();
  const warmAgent = newAgent(1);
  const report: BenchReport = {
    tool: 'model-runner bench',
    version: VERSION,
    startedAt,
    endpoint: formatEndpoint(options.endpoint),
    model: options.model,
    maxTokens: options.maxTokens,
    ignoreEos: options.ignoreEos,
    prompt: { fixed: 'text' in options.prompt },
    levels: [],
  };
  try {
    for (let i = 0; i < options.warmup; i++) {
      const outcome = await requester.send(warmAgent, { maxTokens: Math.min(options.maxTokens, 8) });
      if (!outcome.ok) progress(`warm-up request failed: ${outcome.error}`);
    }
    if ('tokens' in options.prompt) {
      const calibration = await calibrate(requester, warmAgent);
      requester.words = options.promptWords ?? wordsForTokens(options.prompt.tokens, calibration);
      report.prompt = { fixed: false, targetTokens: options.prompt.tokens, words: requester.words, calibration };
      const how = options.promptWords !== undefined ? 'given' : calibration.measured ? 'measured' : 'guessed';
      progress(`prompt: ${requester.words} words for ~${options.prompt.tokens} tokens (${how})`);
    }
  } finally {
    warmAgent.destroy();
  }
  for (const concurrency of options.concurrency) {
    progress(`concurrency ${concurrency}...`);
    report.levels.push(await runLevel(requester, options, concurrency));
  }
  return report;
}
