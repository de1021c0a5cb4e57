/**
 * POST /api/pull: the catalog's pull with Ollama's NDJSON statuses (status-stream.ts says when
 * headers go out and how errors arrive).
 */
import type { Request, RequestHandler, Response } from 'express';
import { parseModelName, parseStream, requireObjectBody } from '../../ollama/common.js';
import { PullStatusMapper } from '../../ollama/pull-progress.js';
import type { OllamaDeps } from './deps.js';
import { ollamaHandler } from './errors.js';
import { replyWithStatuses } from './status-stream.js';

export function createOllamaPullHandler(deps: OllamaDeps): RequestHandler {
  return ollamaHandler(deps.logger, async (req: Request, res: Response) => {
    const body = requireObjectBody(req.body);
    const name = parseModelName(body);
    const mapper = new PullStatusMapper();
    await replyWithStatuses(deps, res, {
      stream: parseStream(body),
      run: async (send, signal) => {
        await deps.catalog.pull(name, { signal, onEvent: (event) => send(mapper.map(event)) });
      },
      finish: () => mapper.finish(),
    });
  });
}
