/** POST /api/embed and the legacy POST /api/embeddings. */
import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler, Response } from 'express';
import type { EmbedResult } from '../../engine/types.js';
import {
  parseOllamaEmbed,
  parseOllamaLegacyEmbedding,
  toOllamaEmbedResponse,
  toOllamaLegacyEmbedding,
} from '../../ollama/embed.js';
import { withLease } from '../common/lease-scope.js';
import { applyContextSize } from './context.js';
import type { OllamaDeps } from './deps.js';
import { ollamaHandler } from './errors.js';

/** `legacy` serves /api/embeddings ({prompt} -> {embedding}); otherwise /api/embed. */
export function createOllamaEmbedHandler(deps: OllamaDeps, legacy: boolean): RequestHandler {
  return ollamaHandler(deps.logger, async (req: Request, res: Response) => {
    const startedAt = performance.now();
    const parsed = legacy ? parseOllamaLegacyEmbedding(req.body) : parseOllamaEmbed(req.body);
    const resolved = await deps.resolveModel(parsed.model, 'embedding');
    const spec = await applyContextSize(deps, resolved, parsed.numCtx);
    const acquireStartedAt = performance.now();
    await withLease(req, res, { scheduler: deps.scheduler, spec, keepAlive: parsed.keepAlive }, async (lease, signal) => {
      const loadMs = performance.now() - acquireStartedAt;
      // No input still loads the model, as in Ollama, and answers no vectors.
      const result: EmbedResult =
        parsed.request.inputs.length === 0 ? { vectors: [], promptTokens: 0 } : await lease.session.embed(parsed.request, signal);
      if (signal.aborted) return;
      deps.metrics.promptTokens.inc({ model: spec.name }, result.promptTokens);
      res.json(
        legacy
          ? toOllamaLegacyEmbedding(result)
          : toOllamaEmbedResponse(parsed.model, result, { totalMs: performance.now() - startedAt, loadMs }),
      );
    });
  });
}
