/** POST chat/completions and completions: run one generation and answer it as JSON or SSE. */
import type { Request, Response } from 'express';
import type { GenerateEvent, GenerateRequest } from '../../engine/types.js';
import { parseChatRequest } from '../../openai/chat-request.js';
import { buildChatCompletion, buildTextCompletion, type ResponseMeta } from '../../openai/chat-response.js';
import { parseCompletionRequest } from '../../openai/completion-request.js';
import { newResponseId, unixSeconds } from '../../openai/ids.js';
import type { CommonFields } from '../../openai/request-common.js';
import { ChatChunkStream, TextChunkStream } from '../../openai/stream-chunks.js';
import { collectGeneration, type Finished, streamGeneration } from '../common/generation-events.js';
import type { InferenceDeps } from '../common/inference-deps.js';
import { sendInferenceError, sendStreamError } from '../common/inference-errors.js';
import { isPreloadOnly, parsePreloadBody, withLease } from '../common/lease-scope.js';
import { noteGeneration } from '../common/request-history.js';
import { createSseWriter } from '../common/sse.js';

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

async function respondJson(
  res: Response,
  events: AsyncIterable<GenerateEvent>,
  kind: Kind,
  meta: ResponseMeta,
  signal: AbortSignal,
): Promise<Finished | undefined> {
  const collected = await collectGeneration(events, signal);
  if (!collected) return undefined;
  const { text, toolCalls, finished } = collected;
  res.json(
    kind === 'chat'
      ? buildChatCompletion(meta, { text, toolCalls, finishReason: finished.finishReason, usage: finished.usage })
      : buildTextCompletion(meta, { text, finishReason: finished.finishReason, usage: finished.usage }),
  );
  return finished;
}

async function respondStream(
  deps: InferenceDeps,
  res: Response,
  events: AsyncIterable<GenerateEvent>,
  kind: Kind,
  meta: ResponseMeta,
  includeUsage: boolean,
  signal: AbortSignal,
): Promise<Finished | undefined> {
  return streamGeneration(events, signal, () => {
    const sse = createSseWriter(res);
    const chunks = kind === 'chat' ? new ChatChunkStream(meta, { includeUsage }) : new TextChunkStream(meta, { includeUsage });
    return {
      start: async () => {
        if (chunks instanceof ChatChunkStream) await sse.send(chunks.start());
      },
      event: async (event) => {
        for (const chunk of chunks.push(event)) await sse.send(chunk);
      },
      end: async () => sse.done(),
      fail: (err) => sendStreamError(sse, err, deps.logger),
    };
  });
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
        const events = lease.session.generate(parsed.request, signal);
        const finished = parsed.stream
          ? await respondStream(deps, res, events, kind, meta, parsed.includeUsage, signal)
          : await respondJson(res, events, kind, meta, signal);
        if (finished) {
          deps.metrics.observeGeneration(spec, finished.usage, finished.timings);
          noteGeneration(res, finished);
        }
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
