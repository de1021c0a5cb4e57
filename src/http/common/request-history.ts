/**
 * The last inference requests per model, for GET /engines/requests (Docker Model Runner's
 * request recorder, `docker model requests`): who asked what of which model, the answer's status,
 * token counts and timings. The bodies are kept only when recording is switched on (they hold
 * users' prompts), capped in size; headers never are, so no Authorization or API key is kept.
 *
 *   const history = new RequestHistory({ perModel: 10, recordBodies: false });
 *   router.use(recordRequests(history));           // before the inference handlers
 *   noteGeneration(res, finished);                 // in a handler, once the generation is done
 *   history.list('ai/smollm2')                     // newest first, grouped by model
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Timings, Usage } from '../../engine/types.js';

/** Records kept per model by default, as Docker Model Runner keeps. */
export const DEFAULT_RECORDS_PER_MODEL = 10;
/** Bytes of a request or response body kept when bodies are recorded; the rest is cut. */
export const MAX_RECORDED_BODY_BYTES = 64 * 1024;
/**
 * Models with records kept at once: requests name their model freely (unknown names included),
 * so the history must not grow with every name a client invents. The model asked least recently goes first.
 */
export const MAX_MODELS = 64;
/** Longest model name recorded as given; longer ones are cut. */
const MAX_MODEL_NAME = 256;

export interface RequestRecord {
  id: string;
  model: string;
  method: string;
  url: string;
  status_code: number;
  /** ISO time the request arrived. */
  timestamp: string;
  duration_ms: number;
  user_agent?: string;
  origin?: string;
  /** The generation's tokens, when one ran to its end. */
  usage?: { prompt_tokens: number; completion_tokens: number; cached_tokens?: number };
  ttft_ms?: number;
  /** Whether the client went away before the answer was complete. */
  client_disconnected?: boolean;
  /** Only when recording bodies: the JSON request and what was sent back (SSE or NDJSON as text). */
  request?: string;
  response?: string;
}

export interface RequestHistoryOptions {
  /** Records kept per model; the oldest go first. 0 keeps none. Defaults to DEFAULT_RECORDS_PER_MODEL. */
  perModel?: number;
  /** Keep request and response bodies. Defaults to false. */
  recordBodies?: boolean;
}

export class RequestHistory {
  readonly perModel: number;
  readonly recordBodies: boolean;
  private readonly byModel = new Map<string, RequestRecord[]>();

  constructor(options: RequestHistoryOptions = {}) {
    this.perModel = Math.max(0, options.perModel ?? DEFAULT_RECORDS_PER_MODEL);
    this.recordBodies = options.recordBodies ?? false;
  }

  add(record: RequestRecord): void {
    if (this.perModel === 0) return;
    const model = record.model.slice(0, MAX_MODEL_NAME);
    const records = this.byModel.get(model) ?? [];
    records.push({ ...record, model });
    if (records.length > this.perModel) records.splice(0, records.length - this.perModel);
    // Re-inserted, so the map's order is the order models were last asked for.
    this.byModel.delete(model);
    this.byModel.set(model, records);
    if (this.byModel.size > MAX_MODELS) this.byModel.delete(this.byModel.keys().next().value!);
  }

  /** Docker's shape: one entry per model, its records newest first; `model` keeps one model's. */
  list(model?: string): Array<{ model: string; count: number; records: RequestRecord[] }> {
    const models = model === undefined ? [...this.byModel.keys()].sort() : this.byModel.has(model) ? [model] : [];
    return models.map((name) => {
      const records = [...this.byModel.get(name)!].reverse();
      return { model: name, count: records.length, records };
    });
  }
}

interface GenerationNote {
  usage: Usage;
  timings: Timings;
}

/** What a handler tells the history about its generation (kept on the response until it closes). */
export function noteGeneration(res: Response, finished: GenerationNote): void {
  res.locals.generation = finished;
}

/**
 * Middleware for inference routes: records each request with a model once its response closes.
 * When bodies are recorded, what the handler writes is copied (up to MAX_RECORDED_BODY_BYTES).
 */
export function recordRequests(history: RequestHistory): RequestHandler {
  return (req, res, next) => {
    if (history.perModel === 0) return next();
    const arrived = Date.now();
    const sent: Buffer[] = [];
    let sentBytes = 0;
    if (history.recordBodies) {
      const keep = (chunk: unknown, encoding?: unknown): void => {
        if (chunk === undefined || chunk === null || typeof chunk === 'function' || sentBytes >= MAX_RECORDED_BODY_BYTES) return;
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
        sent.push(buffer.subarray(0, MAX_RECORDED_BODY_BYTES - sentBytes));
        sentBytes += Math.min(buffer.length, MAX_RECORDED_BODY_BYTES - sentBytes);
      };
      const write = res.write.bind(res);
      const end = res.end.bind(res);
      res.write = ((chunk: unknown, ...rest: unknown[]) => {
        keep(chunk, rest[0]);
        return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof res.write;
      res.end = ((chunk?: unknown, ...rest: unknown[]) => {
        keep(chunk, rest[0]);
        return (end as (...args: unknown[]) => Response)(chunk, ...rest);
      }) as typeof res.end;
    }
    res.on('close', () => {
      const body = req.body as Record<string, unknown> | undefined;
      const model = typeof body?.model === 'string' ? body.model : typeof body?.name === 'string' ? body.name : undefined;
      if (model === undefined || model === '') return;
      const generation = res.locals.generation as GenerationNote | undefined;
      history.add({
        id: randomUUID(),
        model,
        method: req.method,
        url: req.originalUrl,
        status_code: res.statusCode,
        timestamp: new Date(arrived).toISOString(),
        duration_ms: Date.now() - arrived,
        ...(typeof req.headers['user-agent'] === 'string' ? { user_agent: req.headers['user-agent'] } : {}),
        ...(typeof req.headers.origin === 'string' ? { origin: req.headers.origin } : {}),
        ...(generation
          ? {
              usage: { prompt_tokens: generation.usage.promptTokens, completion_tokens: generation.usage.completionTokens, ...(generation.usage.cachedTokens !== undefined ? { cached_tokens: generation.usage.cachedTokens } : {}) },
              ttft_ms: Math.round(generation.timings.timeToFirstTokenMs),
            }
          : {}),
        ...(res.writableFinished ? {} : { client_disconnected: true }),
        ...(history.recordBodies ? { request: JSON.stringify(body).slice(0, MAX_RECORDED_BODY_BYTES), response: Buffer.concat(sent).toString('utf8') } : {}),
      });
    });
    next();
  };
}
