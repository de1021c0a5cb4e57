/**
 * POST /api/chat and /api/generate: load, unload, or run one generation and answer it as NDJSON
 * chunks (the default) or one JSON object. The lease is held for the life of the request and a
 * client that goes away aborts the generation (lease-scope.ts).
 */
import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler, Response } from 'express';
import type { GenerateEvent, TokenLogprob, ToolCall } from '../../engine/types.js';
import { AppError, isAppError } from '../../errors.js';
import { type ParsedOllamaChat, parseOllamaChat } from '../../ollama/chat-request.js';
import { withModelDefaults } from '../../ollama/model-defaults.js';
import { isJsonObject } from '../../openai/validate.js';
import { type ParsedOllamaGenerate, parseOllamaGenerate } from '../../ollama/generate-request.js';
import { logprobsField } from '../../ollama/logprobs.js';
import {
  assistantMessage,
  chatChunk,
  chatFinal,
  doneReason,
  finalFields,
  generateChunk,
  generateFinal,
  lifecycleReply,
  toOllamaToolCalls,
} from '../../ollama/responses.js';
import { collectGeneration, type Finished, streamGeneration } from '../common/generation-events.js';
import { noteGeneration } from '../common/request-history.js';
import { createNdjsonWriter } from '../common/ndjson.js';
import { applyContextSize } from './context.js';
import type { OllamaDeps } from './deps.js';
import { ollamaHandler, sendOllamaStreamError } from './errors.js';
import { withLease } from '../common/lease-scope.js';

type Kind = 'chat' | 'generate';
type Parsed = ParsedOllamaChat | ParsedOllamaGenerate;

/** Times of one request, in performance.now() milliseconds. */
interface Clock {
  startedAt: number;
  loadMs: number;
}

function now(): string {
  return new Date().toISOString();
}

function finalOf(kind: Kind, model: string, finished: Finished, clock: Clock, text = '', calls: ToolCall[] = [], thinking = '', logprobs?: TokenLogprob[]) {
  const fields = finalFields(doneReason(finished.finishReason), {
    totalMs: performance.now() - clock.startedAt,
    loadMs: clock.loadMs,
    usage: finished.usage,
    promptMs: finished.timings.promptMs,
    generationMs: finished.timings.generationMs,
  });
  if (kind === 'generate') return { ...generateFinal(model, now(), text, fields, thinking), ...logprobsField(logprobs) };
  return { ...chatFinal(model, now(), assistantMessage(text, toOllamaToolCalls(calls), thinking), fields), ...logprobsField(logprobs) };
}

async function replyJson(res: Response, kind: Kind, model: string, events: AsyncIterable<GenerateEvent>, clock: Clock, signal: AbortSignal) {
  const collected = await collectGeneration(events, signal);
  if (!collected) return undefined;
  res.json(finalOf(kind, model, collected.finished, clock, collected.text, collected.toolCalls, collected.thinking, collected.logprobs));
  return collected.finished;
}

async function replyStream(
  deps: OllamaDeps,
  res: Response,
  kind: Kind,
  model: string,
  events: AsyncIterable<GenerateEvent>,
  clock: Clock,
  signal: AbortSignal,
): Promise<Finished | undefined> {
  return streamGeneration(events, signal, () => {
    const writer = createNdjsonWriter(res);
    let callIndex = 0;
    return {
      event: async (event) => {
        if (event.type === 'text') {
          const chunk = kind === 'chat' ? chatChunk(model, now(), event.text) : generateChunk(model, now(), event.text);
          await writer.write({ ...chunk, ...logprobsField(event.logprobs) });
        } else if (event.type === 'thinking') {
          await writer.write(kind === 'chat' ? chatChunk(model, now(), '', undefined, event.text) : generateChunk(model, now(), '', event.text));
        } else if (event.type === 'tool_calls' && kind === 'chat') {
          await writer.write(chatChunk(model, now(), '', toOllamaToolCalls(event.calls, callIndex)));
          callIndex += event.calls.length;
        }
      },
      end: async (finished) => {
        await writer.write(finalOf(kind, model, finished, clock));
        writer.end();
      },
      fail: (err) => sendOllamaStreamError(writer, err, deps.logger),
    };
  });
}

/** The engine refuses `think` for a model without a thinking section; Ollama words it with the model's name. */
function inOllamaWords(err: unknown, model: string): unknown {
  if (err instanceof AppError && err.data?.unsupported === 'thinking') return new AppError('bad_request', `"${model}" does not support thinking`, { cause: err });
  return err;
}

function parse(kind: Kind, body: unknown): Parsed {
  return kind === 'chat' ? parseOllamaChat(body) : parseOllamaGenerate(body);
}

/**
 * The request with the model's own system prompt, messages and parameters applied (a created
 * model's extras). A body the parser will refuse, or a model that does not exist, is passed on
 * unchanged for the parser and the resolver to answer as they do.
 */
async function withExtras(deps: OllamaDeps, kind: Kind, body: unknown): Promise<unknown> {
  if (!isJsonObject(body)) return body;
  const name = body.model ?? body.name;
  if (typeof name !== 'string' || name.trim() === '') return body;
  try {
    return withModelDefaults(kind, body, await deps.catalog.extras(name.trim()));
  } catch (err) {
    if (isAppError(err) && (err.code === 'not_found' || err.code === 'invalid_reference')) return body;
    throw err;
  }
}

export function createOllamaGenerateHandler(deps: OllamaDeps, kind: Kind): RequestHandler {
  return ollamaHandler(deps.logger, async (req: Request, res: Response) => {
    const startedAt = performance.now();
    const parsed = parse(kind, await withExtras(deps, kind, req.body));
    if (parsed.ignored.length > 0) {
      deps.logger.info('ollama request fields ignored', { route: `/api/${kind}`, model: parsed.model, fields: parsed.ignored });
    }
    if (parsed.action === 'unload') {
      // Only an idle model unloads; one serving requests stays until its keep-alive ends.
      await deps.catalog.unload(parsed.model);
      res.json(lifecycleReply(kind, parsed.model, now(), 'unload'));
      return;
    }
    const resolved = await deps.resolveModel(parsed.model, 'completion');
    const spec = await applyContextSize(deps, resolved, parsed.numCtx);
    const acquireStartedAt = performance.now();
    await withLease(req, res, { scheduler: deps.scheduler, spec, keepAlive: parsed.keepAlive }, async (lease, signal) => {
      const clock: Clock = { startedAt, loadMs: performance.now() - acquireStartedAt };
      if (parsed.action === 'load') {
        res.json(lifecycleReply(kind, parsed.model, now(), 'load'));
        return;
      }
      const events = lease.session.generate(parsed.request, signal);
      const finished = await (parsed.stream
        ? replyStream(deps, res, kind, parsed.model, events, clock, signal)
        : replyJson(res, kind, parsed.model, events, clock, signal)
      ).catch((err: unknown) => {
        throw inOllamaWords(err, parsed.model);
      });
      if (finished) {
        deps.metrics.observeGeneration(spec, finished.usage, finished.timings);
        noteGeneration(res, finished);
      }
    });
  });
}
