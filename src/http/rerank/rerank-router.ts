/**
 * The reranking routes llama-server serves and Docker Model Runner forwards: POST /rerank (with
 * /v1/rerank, /reranking aliases) and POST /score, under /engines and /engines/llama.cpp (the app
 * maps /rerank, /score and /v1/... onto /engines/...). Not part of OpenAI's API, so they live
 * apart from the OpenAI router; errors still take OpenAI's shape, as llama-server's do.
 */
import { randomBytes } from 'node:crypto';
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { AppError } from '../../errors.js';
import type { RankRequest, RankResult } from '../../engine/types.js';
import { buildRerankResponse } from '../../rerank/rerank-response.js';
import { parseRerankRequest } from '../../rerank/rerank-request.js';
import { buildScoreResponse, parseScoreRequest } from '../../rerank/score.js';
import type { InferenceDeps } from '../common/inference-deps.js';
import { sendInferenceError } from '../common/inference-errors.js';
import { BACKEND_NAME } from '../common/inference-deps.js';
import { countRequests } from '../common/metrics.js';
import { routeWith } from '../common/handler.js';
import { jsonBody } from '../common/json-body.js';
import { isPreloadOnly, parsePreloadBody, withLease } from '../common/lease-scope.js';

/** Every spelling of a reranking path: with and without /v1, with and without the backend name. */
function rankingPaths(suffixes: string[]): string[] {
  return suffixes.flatMap((suffix) => [`/engines/${suffix}`, `/engines/v1/${suffix}`, `/engines/:backend/${suffix}`, `/engines/:backend/v1/${suffix}`]);
}

const checkBackend: RequestHandler = (req, res, next) => {
  const backend = req.params.backend;
  if (backend !== undefined && backend !== BACKEND_NAME) {
    sendInferenceError(res, new AppError('not_found', `backend "${backend}" not found`));
    return;
  }
  next();
};

function responseId(): string {
  return `rerank-${randomBytes(12).toString('hex')}`;
}

/** Scores the documents on the model loaded in reranking mode; undefined when the client went away. */
async function rankOn(deps: InferenceDeps, req: Request, res: Response, model: string, request: RankRequest): Promise<RankResult | undefined> {
  const spec = await deps.resolveModel(model, 'reranking');
  let result: RankResult | undefined;
  await withLease(req, res, { scheduler: deps.scheduler, spec }, async (lease, signal) => {
    const ranked = await lease.session.rank(request, signal);
    if (signal.aborted) return;
    deps.metrics.promptTokens.inc({ model: spec.name }, ranked.promptTokens);
    result = ranked;
  });
  return result;
}

/**
 * Runs an async handler and answers any error in OpenAI's shape. A preload-only request (the CLI's
 * `run --detach`) names just the model: it loads it in reranking mode and answers an empty 200.
 */
function handle(deps: InferenceDeps, handler: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return routeWith((res, err) => sendInferenceError(res, err, deps.logger))(async (req, res) => {
    if (isPreloadOnly(req)) {
      const target = parsePreloadBody(req.body);
      const spec = await deps.resolveModel(target.model, 'reranking');
      await withLease(req, res, { scheduler: deps.scheduler, spec, keepAlive: target.keepAlive }, async () => undefined);
      return;
    }
    await handler(req, res);
  });
}

/** How one ranking route reads its body and shapes its answer; the rest is the same for both. */
interface RankingRoute<Parsed extends { model: string; request: RankRequest }> {
  suffixes: string[];
  /** The path the request counter files the route under. */
  metricPath: string;
  parse: (body: unknown) => Parsed;
  build: (parsed: Parsed, result: RankResult) => unknown;
}

export function createRerankRouter(deps: InferenceDeps): Router {
  const router = Router();
  const body = jsonBody({ sendError: (res, error) => sendInferenceError(res, error, deps.logger) });
  const route = <Parsed extends { model: string; request: RankRequest }>(r: RankingRoute<Parsed>): void => {
    router.post(
      rankingPaths(r.suffixes),
      checkBackend,
      countRequests(deps.metrics, r.metricPath),
      body,
      handle(deps, async (req, res) => {
        const parsed = r.parse(req.body);
        const result = await rankOn(deps, req, res, parsed.model, parsed.request);
        if (result) res.json(r.build(parsed, result));
      }),
    );
  };
  route({
    suffixes: ['rerank', 'reranking'],
    metricPath: '/rerank',
    parse: parseRerankRequest,
    build: (parsed, result) => buildRerankResponse({ id: responseId(), model: parsed.model, documents: parsed.request.documents, result, topN: parsed.topN, returnDocuments: parsed.returnDocuments }),
  });
  route({
    suffixes: ['score'],
    metricPath: '/score',
    parse: parseScoreRequest,
    build: (parsed, result) => buildScoreResponse({ id: responseId(), model: parsed.model, created: Math.floor(Date.now() / 1000), result }),
  });
  return router;
}
