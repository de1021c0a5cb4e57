/** POST chat/completions and completions: run one generation and answer it as JSON or SSE. */
import type { Request, Response } from 'express';
import type { FinishReason, GenerateEvent, GenerateRequest, Timings, ToolCall, Usage } from '../engine/types.js';
import { AppError } from '../errors.js';
import { parseChatRequest } from '../openai/chat-request.js';
import { buildChatCompletion, buildTextCompletion, type ResponseMeta } from '../openai/chat-response.js';
import { parseCompletionRequest } from '../openai/completion-request.js';
import { newResponseId, unixSeconds } from '../openai/ids.js';
import type { CommonFields } from '../openai/request-common.js';
import { ChatChunkStream, TextChunkStream } from '../openai/stream-chunks.js';
import type { InferenceDeps } from './inference-deps.js';
import { sendInferenceError, sendStreamError } from './inference-errors.js';
import { isPreloadOnly, parsePreloadBody, withLease } from './lease-scope.js';
import { createSseWriter } from './sse.js';

type Kind = GenerateRequest['kind'];

interface Finished {
  finishReason: FinishReason;
  usage: Usage;
  timings: Timings;
}

function responseMeta(deps: InferenceDeps, kind: Kind, model: string): ResponseMeta {
  const meta: ResponseMeta = { id: newResponseId(kind === 'chat' ? 'chatcmpl' : 'cmpl'), created: unixSeconds(), model };
  try {
    meta.systemFingerprint = deps.scheduler.status().version;
  } catch {
    // A fingerprint is decoration; never fail a request for it.
  }
  return meta;
}

function missingDone(): AppError {
  return new AppError('internal', 'the model stopped without reporting the end of the generation');
}

async function respondJson(
  res: Response,
  events: AsyncIterable<GenerateEvent>,
  kind: Kind,
  meta: ResponseMeta,
  signal: AbortSignal,
): Promise<Finished | undefined> {
  let text = '';
  const toolCalls: ToolCall[] = [];
  let finished: Finished | undefined;
  for await (const event of events) {
    if (event.type === 'text') text += event.text;
    else if (event.type === 'tool_calls') toolCalls.push(...event.calls);
    else finished = event;
  }
  if (signal.aborted) return undefined;
  if (!finished) throw missingDone();
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
  const iterator = events[Symbol.asyncIterator]();
  // Wait for the first event before committing to a 200: a prompt that does not fit the
  // context fails here and still gets its proper status.
  let next = await iterator.next();
  const sse = createSseWriter(res);
  const chunks = kind === 'chat' ? new ChatChunkStream(meta, { includeUsage }) : new TextChunkStream(meta, { includeUsage });
  let finished: Finished | undefined;
  try {
    if (chunks instanceof ChatChunkStream) await sse.send(chunks.start());
    while (!next.done && !signal.aborted) {
      for (const chunk of chunks.push(next.value)) await sse.send(chunk);
      if (next.value.type === 'done') finished = next.value;
      next = await iterator.next();
    }
    if (signal.aborted) return undefined;
    if (!finished) throw missingDone();
    sse.done();
    return finished;
  } catch (err) {
    if (!signal.aborted) await sendStreamError(sse, err, deps.logger);
    return undefined;
  } finally {
    // Stops the engine's generator when we leave early (client gone or an error).
    if (!next.done) await iterator.return?.().catch(() => undefined);
  }
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
        if (finished) deps.metrics.observeGeneration(spec.name, finished.usage, finished.timings);
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
