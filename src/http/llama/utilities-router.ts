/**
 * llama-server's utility routes (/tokenize, /detokenize, /apply-template, /props) under /engines/llama.cpp/,
 * /engines/llama.cpp/v1/ and /engines/v1/ (the app maps /v1/... onto the last). The model comes
 * from the body's `model` (a `?model=` query for GET /props); without one, the request goes to
 * the one model loaded for completion when exactly one is, and is refused otherwise.
 */
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { AppError } from '../../errors.js';
import { buildPropsResponse } from '../../llama/props.js';
import { buildTokensResponse, parseApplyTemplateRequest, parseDetokenizeRequest, parseTokenizeRequest, type ParsedTokens } from '../../llama/tokens-request.js';
import type { InferenceDeps } from '../common/inference-deps.js';
import { sendInferenceError } from '../common/inference-errors.js';
import { BACKEND_NAME } from '../common/inference-deps.js';
import { routeWith } from '../common/handler.js';
import { jsonBody } from '../common/json-body.js';
import { withLease } from '../common/lease-scope.js';

const PREFIXES = [`/engines/${BACKEND_NAME}`, `/engines/${BACKEND_NAME}/v1`, '/engines/v1'];

/** The named model, or the single completion model loaded now. */
function modelFor(deps: InferenceDeps, named: string | undefined): string {
  if (named) return named;
  const loaded = deps.scheduler.ps().filter((e) => e.mode === 'completion');
  if (loaded.length === 1) return loaded[0]!.name;
  throw new AppError('bad_request', `model is required when ${loaded.length === 0 ? 'no model is' : 'several models are'} loaded`, { data: { param: 'model' } });
}

/** Runs a route; whatever it throws is answered in OpenAI's error shape, llama-server's own. */
function handle(deps: InferenceDeps, work: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return routeWith((res, err) => sendInferenceError(res, err, deps.logger))(work);
}

function tokensHandler(deps: InferenceDeps, parse: (body: unknown) => ParsedTokens) {
  return async (req: Request, res: Response): Promise<void> => {
    const parsed = parse(req.body);
    const spec = await deps.resolveModel(modelFor(deps, parsed.model), 'completion');
    await withLease(req, res, { scheduler: deps.scheduler, spec }, async (lease, signal) => {
      const result = await lease.session.tokens(parsed.request, signal);
      if (!signal.aborted) res.json(buildTokensResponse(result));
    });
  };
}

function propsHandler(deps: InferenceDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const query = typeof req.query.model === 'string' ? req.query.model.trim() : '';
    const spec = await deps.resolveModel(modelFor(deps, query || undefined), 'completion');
    await withLease(req, res, { scheduler: deps.scheduler, spec }, async (lease, signal) => {
      const { chatTemplate = '' } = await lease.session.tokens({ op: 'props' }, signal);
      if (signal.aborted) return;
      const entry = deps.scheduler.ps().find((e) => e.id === spec.id && e.mode === 'completion');
      if (!entry) throw new AppError('unavailable', `model "${spec.name}" is not loaded`);
      res.json(
        buildPropsResponse({ modelName: spec.name, modelPath: spec.modelPath, contextSize: entry.contextSize, parallel: entry.parallel, version: deps.scheduler.status().version, chatTemplate }),
      );
    });
  };
}

export function createLlamaUtilitiesRouter(deps: InferenceDeps): Router {
  const router = Router();
  const body = jsonBody({ sendError: (res, error) => sendInferenceError(res, error, deps.logger) });
  const paths = (suffix: string) => PREFIXES.map((p) => `${p}/${suffix}`);
  router.post(paths('tokenize'), body, handle(deps, tokensHandler(deps, parseTokenizeRequest)));
  router.post(paths('detokenize'), body, handle(deps, tokensHandler(deps, parseDetokenizeRequest)));
  router.post(paths('apply-template'), body, handle(deps, tokensHandler(deps, parseApplyTemplateRequest)));
  router.get(paths('props'), handle(deps, propsHandler(deps)));
  return router;
}
