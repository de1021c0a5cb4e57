/**
 * Anthropic's Messages API: POST messages and messages/count_tokens under /engines/v1,
 * /engines/llama.cpp/v1 and the /v1 alias, answered and failed in Anthropic's shapes.
 */
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { parseCountTokensRequest, parseMessagesRequest } from '../../anthropic/messages-request.js';
import { buildMessage, type MessageMeta, MessageEventStream, newMessageId, type StreamEvent } from '../../anthropic/messages-response.js';
import type { GenerateEvent } from '../../engine/types.js';
import { collectGeneration, type Finished, streamGeneration } from '../common/generation-events.js';
import type { InferenceDeps } from '../common/inference-deps.js';
import { checkBackend } from '../common/inference-deps.js';
import { countRequests } from '../common/metrics.js';
import { jsonBody } from '../common/json-body.js';
import { withLease } from '../common/lease-scope.js';
import { createSseWriter } from '../common/sse.js';
import { sendAnthropicError, sendAnthropicStreamError } from './anthropic-errors.js';

function paths(suffix: string): string[] {
  return [`/engines/v1/${suffix}`, `/engines/:backend/v1/${suffix}`];
}

function openSse(res: Response) {
  const sse = createSseWriter(res);
  // Anthropic's stream names every event with an `event:` line, unlike OpenAI's bare data frames.
  return async (events: StreamEvent[]) => {
    for (const e of events) await sse.sendEvent(e.event, e.data);
  };
}

async function respondStream(deps: InferenceDeps, res: Response, events: AsyncIterable<GenerateEvent>, meta: MessageMeta, signal: AbortSignal): Promise<Finished | undefined> {
  return streamGeneration(events, signal, () => {
    const send = openSse(res);
    const stream = new MessageEventStream(meta);
    return {
      start: () => send(stream.start()),
      event: (event) => send(stream.push(event)),
      end: async () => {
        if (!res.writableEnded) res.end();
      },
      fail: (err) => sendAnthropicStreamError(res, err, deps.logger),
    };
  });
}

function messagesHandler(deps: InferenceDeps): RequestHandler {
  return async (req: Request, res: Response) => {
    try {
      const parsed = parseMessagesRequest(req.body);
      const spec = await deps.resolveModel(parsed.model, 'completion');
      await withLease(req, res, { scheduler: deps.scheduler, spec }, async (lease, signal) => {
        const meta: MessageMeta = { id: newMessageId(), model: parsed.model };
        const events = lease.session.generate(parsed.request, signal);
        let finished: Finished | undefined;
        if (parsed.stream) finished = await respondStream(deps, res, events, meta, signal);
        else {
          const collected = await collectGeneration(events, signal);
          if (collected) {
            finished = collected.finished;
            res.json(buildMessage(meta, { text: collected.text, thinking: collected.thinking, toolCalls: collected.toolCalls, finishReason: finished.finishReason, usage: finished.usage, stopSequence: finished.stopSequence }));
          }
        }
        if (finished) deps.metrics.observeGeneration(spec, finished.usage, finished.timings);
      });
    } catch (err) {
      // After a disconnect there is nobody to answer; the abort already stopped the work.
      if (res.destroyed || res.writableEnded) return;
      sendAnthropicError(res, err, deps.logger);
    }
  };
}

/** Counts through the real template: a generation of zero tokens reports the prompt's length. */
function countTokensHandler(deps: InferenceDeps): RequestHandler {
  return async (req: Request, res: Response) => {
    try {
      const parsed = parseCountTokensRequest(req.body);
      const spec = await deps.resolveModel(parsed.model, 'completion');
      await withLease(req, res, { scheduler: deps.scheduler, spec }, async (lease, signal) => {
        const collected = await collectGeneration(lease.session.generate(parsed.request, signal), signal);
        if (collected) res.json({ input_tokens: collected.finished.usage.promptTokens });
      });
    } catch (err) {
      if (res.destroyed || res.writableEnded) return;
      sendAnthropicError(res, err, deps.logger);
    }
  };
}

export function createMessagesRouter(deps: InferenceDeps): Router {
  const router = Router();
  const body = jsonBody({ sendError: (res, error) => sendAnthropicError(res, error, deps.logger) });
  router.post(paths('messages'), checkBackend, countRequests(deps.metrics, '/v1/messages'), body, messagesHandler(deps));
  router.post(paths('messages/count_tokens'), checkBackend, countRequests(deps.metrics, '/v1/messages/count_tokens'), body, countTokensHandler(deps));
  return router;
}
