/**
 * Turns raw stream outcomes into the numbers a benchmark reports: per-request metrics, then
 * one summary per concurrency level.
 */
import type { StreamOutcome } from './http-client.js';
import { summarize, type Summary } from './stats.js';

/** The measurements of one successful request. Rates are undefined where they cannot be measured. */
export interface RequestMetrics {
  ttftMs: number;
  promptTokens: number | undefined;
  completionTokens: number;
  /** Where completionTokens came from: the server's `usage`, or one token per text-carrying chunk. */
  tokenSource: 'usage' | 'chunks';
  /** Tokens after the first / time after the first token: the per-stream generation speed. */
  decodeTps: number | undefined;
  /** Prompt tokens / TTFT, as the client sees it (includes queueing and HTTP overhead). */
  promptTps: number | undefined;
  /** The server's own prompt speed (llama-server's timings.prompt_per_second). */
  serverPromptTps: number | undefined;
  /** Prompt tokens the server took from its cache instead of evaluating (llama-server's timings.cache_n). */
  cachedPromptTokens: number | undefined;
}

/** Metrics of a successful outcome; undefined for failures and for streams that produced no token. */
export function requestMetrics(o: StreamOutcome): RequestMetrics | undefined {
  if (!o.ok || o.firstTokenMs === undefined) return undefined;
  const ttftMs = o.firstTokenMs - o.startMs;
  const completionTokens = o.usage?.completion_tokens ?? o.contentChunks;
  const promptTokens = o.usage?.prompt_tokens ?? o.timings?.prompt_n;
  // The finish chunk marks the end of generation; text-less tokens at the end (control tokens,
  // held-back bytes) would make the last text chunk too early.
  const decodeEnd = o.finishMs ?? o.lastTokenMs ?? o.firstTokenMs;
  const decodeSeconds = (decodeEnd - o.firstTokenMs) / 1000;
  return {
    ttftMs,
    promptTokens,
    completionTokens,
    tokenSource: o.usage ? 'usage' : 'chunks',
    decodeTps: completionTokens > 1 && decodeSeconds > 0 ? (completionTokens - 1) / decodeSeconds : undefined,
    promptTps: promptTokens !== undefined && ttftMs > 0 ? promptTokens / (ttftMs / 1000) : undefined,
    serverPromptTps: o.timings?.prompt_per_second,
    cachedPromptTokens: o.timings?.cache_n ?? o.usage?.prompt_tokens_details?.cached_tokens,
  };
}

/** One concurrency level's results. Token totals count successful requests only. */
export interface LevelResult {
  concurrency: number;
  /** Requests sent, successful or not. */
  requests: number;
  errors: number;
  /** Requests sent again because the connection dropped before any reply (see run.ts). */
  retries: number;
  /** Up to five distinct error messages, to tell why requests failed. */
  errorSamples: string[];
  /** From the first request's start to the last one's end. */
  wallMs: number;
  promptTokens: number;
  /** Prompt tokens the server reported as served from its cache (0 when it reports none). */
  cachedPromptTokens: number;
  completionTokens: number;
  tokenSource: 'usage' | 'chunks' | 'mixed' | 'none';
  ttftMs: Summary;
  decodeTps: Summary;
  promptTps: Summary;
  serverPromptTps: Summary;
  /** All generated tokens / wall time. */
  aggregateTps: number | undefined;
}

export function summarizeLevel(concurrency: number, outcomes: readonly StreamOutcome[]): LevelResult {
  const metrics = outcomes.map(requestMetrics).filter((m): m is RequestMetrics => m !== undefined);
  const failed = outcomes.filter((o) => !o.ok || o.firstTokenMs === undefined);
  const errorSamples = [...new Set(failed.map((o) => o.error ?? 'no token in the reply'))].slice(0, 5);
  const start = Math.min(...outcomes.map((o) => o.startMs));
  const end = Math.max(...outcomes.map((o) => o.endMs));
  const wallMs = outcomes.length > 0 ? end - start : 0;
  const completionTokens = metrics.reduce((a, m) => a + m.completionTokens, 0);
  const sources = new Set(metrics.map((m) => m.tokenSource));
  return {
    concurrency,
    requests: outcomes.length,
    errors: failed.length,
    retries: outcomes.reduce((a, o) => a + (o.retries ?? 0), 0),
    errorSamples,
    wallMs,
    promptTokens: metrics.reduce((a, m) => a + (m.promptTokens ?? 0), 0),
    cachedPromptTokens: metrics.reduce((a, m) => a + (m.cachedPromptTokens ?? 0), 0),
    completionTokens,
    tokenSource: sources.size === 0 ? 'none' : sources.size > 1 ? 'mixed' : [...sources][0]!,
    ttftMs: summarize(metrics.map((m) => m.ttftMs)),
    decodeTps: summarize(metrics.flatMap((m) => (m.decodeTps === undefined ? [] : [m.decodeTps]))),
    promptTps: summarize(metrics.flatMap((m) => (m.promptTps === undefined ? [] : [m.promptTps]))),
    serverPromptTps: summarize(metrics.flatMap((m) => (m.serverPromptTps === undefined ? [] : [m.serverPromptTps]))),
    aggregateTps: wallMs > 0 && metrics.length > 0 ? completionTokens / (wallMs / 1000) : undefined,
  };
}
