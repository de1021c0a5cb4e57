/** POST chat/completions and completions: run one generation and answer it as JSON or SSE. */
import type { Request, Response } from 'express';
import type { GenerateEvent, GenerateRequest, Usage } from '../../engine/types.js';
import { parseChatRequest } from '../../openai/chat-request.js';
import { buildChatCompletion, buildTextCompletion, metaFields, type ResponseMeta, toOpenAIUsage } from '../../openai/chat-response.js';
import { parseCompletionRequest } from '../../openai/completion-request.js';
import { newResponseId, unixSeconds } from '../../openai/ids.js';
import type { CommonFields } from '../../openai/request-common.js';
import { toServerTimings } from '../../openai/server-timings.js';
import { ChatChunkStream, TextChunkStream } from '../../openai/stream-chunks.js';
import { type CollectedGeneration, collectGeneration, type Finished, streamGeneration } from '../common/generation-events.js';
import type { InferenceDeps } from '../common/inference-deps.js';
import { sendInferenceError, sendStreamError } from '../common/inference-errors.js';
import { isPreloadOnly, parsePreloadBody, withLease } from '../common/lease-scope.js';
import { noteGeneration } from '../common/request-history.js';
import { createSseWriter, type SseWriter } from '../common/sse.js';

type Kind = GenerateRequest['kind'];

function responseMeta(deps: InferenceDeps, kind: Kind, model: string): ResponseMeta {
  const meta: ResponseMeta = { id: newResponseId(kind === 'chat' ? 'chatcmpl' : 'cmpl'), created: unixSeconds(), model };
  try {
    meta.systemFingerprint = deps.scheduler.status().version;
  } catch {
    // A fingerprint is decoration; never fail a request for it.
  }
  return meta;
}

/** The generations of one request: choice `i` of `n`, each a full generation on the same prompt. */
type Choices = { n: number; generate(i: number): AsyncIterable<GenerateEvent>; finished(i: number, finished: Finished): void };

/** What the choices cost together: the prompt once (choices after the first find it cached), every completion. */
function combinedUsage(all: Finished[]): Usage {
  const first = all[0]!.usage;
  const usage: Usage = { promptTokens: first.promptTokens, completionTokens: all.reduce((sum, f) => sum + f.usage.completionTokens, 0), ...(first.cachedTokens !== undefined ? { cachedTokens: first.cachedTokens } : {}) };
  if (all.some((f) => f.usage.reasoningTokens !== undefined)) usage.reasoningTokens = all.reduce((sum, f) => sum + (f.usage.reasoningTokens ?? 0), 0);
  return usage;
}

/** `withLogprobs`: the request asked for logprobs, so every choice carries them (an empty list when it generated nothing). */
async function respondJson(res: Response, choices: Choices, kind: Kind, meta: ResponseMeta, withLogprobs: boolean, signal: AbortSignal): Promise<Usage | undefined> {
  const collected: CollectedGeneration[] = [];
  for (let i = 0; i < choices.n; i++) {
    const one = await collectGeneration(choices.generate(i), signal);
    if (!one) return undefined;
    choices.finished(i, one.finished);
    collected.push(one);
  }
  const usage = combinedUsage(collected.map((c) => c.finished));
  const built = collected.map(({ text, thinking, toolCalls, finished, logprobs }) => {
    const result = { text, finishReason: finished.finishReason, usage, ...(withLogprobs ? { logprobs } : {}) };
    return kind === 'chat' ? buildChatCompletion(meta, { ...result, thinking, toolCalls }) : buildTextCompletion(meta, result);
  });
  const choicesJson = built.map((completion, index) => ({ ...completion.choices[0]!, index }));
  // After usage, as llama-server places it.
  res.json({ ...built[0]!, choices: choicesJson, timings: toServerTimings(collected.map((c) => c.finished)) });
  return usage;
}

/**
 * Streams the choices one after another, each with its own index (OpenAI clients assemble
 * choices by index, in any order), then one usage chunk for all of them when asked, then [DONE].
 * The last chunk before [DONE] (the usage chunk, else the last choice's finish chunk) carries
 * the request's timings, where llama-server puts them.
 */
async function respondStream(
  deps: InferenceDeps,
  res: Response,
  choices: Choices,
  kind: Kind,
  meta: ResponseMeta,
  includeUsage: boolean,
  signal: AbortSignal,
): Promise<Usage | undefined> {
  let sse: SseWriter | undefined;
  const all: Finished[] = [];
  // With include_usage every chunk says usage: null until the last one, which carries it, as OpenAI's do.
  const withUsageNull = <T extends object>(chunk: T): T => (includeUsage ? { ...chunk, usage: null } : chunk);
  for (let index = 0; index < choices.n; index++) {
    const last = index === choices.n - 1;
    const finished = await streamGeneration(choices.generate(index), signal, () => {
      sse ??= createSseWriter(res);
      const writer = sse;
      const chunks = kind === 'chat' ? new ChatChunkStream(meta, { index }) : new TextChunkStream(meta, { index });
      return {
        start: async () => {
          if (chunks instanceof ChatChunkStream) await writer.send(withUsageNull(chunks.start()));
        },
        event: async (event) => {
          const out: object[] = chunks.push(event).map(withUsageNull);
          if (event.type === 'done' && last && !includeUsage) out.push({ ...out.pop(), timings: toServerTimings([...all, event]) });
          for (const chunk of out) await writer.send(chunk);
        },
        end: async (finished) => {
          if (!last) return;
          if (includeUsage) {
            const everyChoice = [...all, finished];
            await writer.send({ ...metaFields(meta, kind === 'chat' ? 'chat.completion.chunk' : 'text_completion'), choices: [], usage: toOpenAIUsage(combinedUsage(everyChoice)), timings: toServerTimings(everyChoice) });
          }
          await writer.done();
        },
        fail: (err) => sendStreamError(writer, err, deps.logger),
      };
    });
    if (!finished) return undefined;
    all.push(finished);
    choices.finished(index, finished);
  }
  return combinedUsage(all);
}

/** Choice `i`: the same request, a seed moved by `i` so that seeded choices differ (and repeat). */
function choiceRequest(request: GenerateRequest, i: number): GenerateRequest {
  if (i === 0 || request.sampling.seed === undefined) return request;
  return { ...request, sampling: { ...request.sampling, seed: request.sampling.seed + i } };
}

function parse(kind: Kind, body: unknown): CommonFields & { request: GenerateRequest } {
  return kind === 'chat' ? parseChatRequest(body) : parseCompletionRequest(body);
}

export function createGenerateHandler(deps: InferenceDeps, kind: Kind) {
  return async (req: Request, res: Response): Promise<void> => {
    try {
      if (isPreloadOnly(req)) {
        const preload = parsePreloadBody(req.body);
        const spec = await deps.resolveModel(preload.model, 'completion');
        await withLease(req, res, { scheduler: deps.scheduler, spec, keepAlive: preload.keepAlive }, async () => undefined);
        return;
      }
      const parsed = parse(kind, req.body);
      const spec = await deps.resolveModel(parsed.model, 'completion');
      await withLease(req, res, { scheduler: deps.scheduler, spec, keepAlive: parsed.keepAlive }, async (lease, signal) => {
        const meta = responseMeta(deps, kind, parsed.model);
        let first: Finished | undefined;
        const choices: Choices = {
          n: parsed.choices,
          generate: (i) => lease.session.generate(choiceRequest(parsed.request, i), signal),
          finished: (i, finished) => {
            first ??= finished;
            deps.metrics.observeGeneration(spec, finished.usage, finished.timings);
          },
        };
        const usage = parsed.stream
          ? await respondStream(deps, res, choices, kind, meta, parsed.includeUsage, signal)
          : await respondJson(res, choices, kind, meta, parsed.request.sampling.logprobs !== undefined, signal);
        if (usage && first) noteGeneration(res, { usage, timings: first.timings });
      });
    } catch (err) {
      // After a disconnect there is nobody to answer; the abort already stopped the work.
      if (res.destroyed || res.writableEnded) return;
      if (res.headersSent) {
        res.end();
        return;
      }
      sendInferenceError(res, err, deps.logger);
    }
  };
}
