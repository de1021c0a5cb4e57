/** POST /v1/responses: continue a stored conversation if asked, generate, answer as JSON or typed SSE, store. */
import type { Request, Response } from 'express';
import { toAppError } from '../../errors.js';
import { type InputItem, toChatMessages } from '../../responses/input-items.js';
import { parseResponsesRequest, type ParsedResponsesRequest, toEngineRequest } from '../../responses/request.js';
import { buildResponse, newItemId, outputAsInput, outputItems, type OutputItem, type ResponseHead, statusFor } from '../../responses/response.js';
import type { ResponseStore } from '../../responses/store.js';
import { ResponseEventStream } from '../../responses/stream-events.js';
import { openAIErrorBody } from '../common/error-status.js';
import { collectGeneration, streamGeneration } from '../common/generation-events.js';
import type { InferenceDeps } from '../common/inference-deps.js';
import { withLease } from '../common/lease-scope.js';
import { sendResponsesError } from './responses-errors.js';
import { createTypedSseWriter } from './responses-sse-events.js';

export interface ResponsesDeps extends InferenceDeps {
  store: ResponseStore;
  /** Seconds since the epoch, now. Defaults to the system clock. */
  nowSeconds?: () => number;
}

function head(deps: ResponsesDeps, parsed: ParsedResponsesRequest): ResponseHead {
  return {
    id: newItemId('resp'),
    createdAt: deps.nowSeconds?.() ?? Math.floor(Date.now() / 1000),
    model: parsed.model,
    previousResponseId: parsed.previousResponseId ?? null,
    instructions: parsed.instructions ?? null,
    store: parsed.store,
    echo: parsed.echo,
  };
}

function remember(deps: ResponsesDeps, parsed: ParsedResponsesRequest, conversation: InputItem[], response: Record<string, unknown>, output: OutputItem[]): void {
  if (!parsed.store) return;
  deps.store.put(String(response.id), { response, conversation: [...conversation, ...outputAsInput(output)] });
}

export function createResponsesHandler(deps: ResponsesDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    try {
      const parsed = parseResponsesRequest(req.body);
      // Instructions are not inherited: only the items of earlier turns are.
      const earlier = parsed.previousResponseId ? deps.store.get(parsed.previousResponseId, 'previous_response_id').conversation : [];
      const conversation = [...earlier, ...parsed.input];
      const request = toEngineRequest(parsed, toChatMessages(parsed.instructions, conversation));
      const spec = await deps.resolveModel(parsed.model, 'completion');
      await withLease(req, res, { scheduler: deps.scheduler, spec, keepAlive: parsed.keepAlive }, async (lease, signal) => {
        const responseHead = head(deps, parsed);
        const events = lease.session.generate(request, signal);
        if (!parsed.stream) {
          const collected = await collectGeneration(events, signal);
          if (!collected) return;
          const status = statusFor(collected.finished.finishReason);
          const output = outputItems(collected.text, collected.toolCalls, status, collected.thinking);
          const response = buildResponse(responseHead, status, output, collected.finished.usage);
          remember(deps, parsed, conversation, response, output);
          res.json(response);
          deps.metrics.observeGeneration(spec, collected.finished.usage, collected.finished.timings);
          return;
        }
        const stream = new ResponseEventStream(responseHead);
        const finished = await streamGeneration(events, signal, () => {
          const sse = createTypedSseWriter(res);
          return {
            start: async () => {
              for (const event of stream.start()) await sse.send(event);
            },
            event: async (event) => {
              for (const frame of stream.push(event)) await sse.send(frame);
            },
            end: async () => sse.end(),
            fail: async (err) => {
              const body = openAIErrorBody(toAppError(err)).body.error;
              await sse.send(stream.error(String(body.code), String(body.message)));
              sse.end();
            },
          };
        });
        if (finished && stream.final) {
          remember(deps, parsed, conversation, stream.final, stream.items);
          deps.metrics.observeGeneration(spec, finished.usage, finished.timings);
        }
      });
    } catch (err) {
      // After a disconnect there is nobody to answer; the abort already stopped the work.
      if (res.destroyed || res.writableEnded) return;
      sendResponsesError(res, err, deps.logger);
    }
  };
}
