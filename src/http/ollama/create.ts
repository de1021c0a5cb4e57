/** POST /api/create: the catalog's create with Ollama's status stream. */
import type { Request, RequestHandler, Response } from 'express';
import { parseOllamaCreate } from '../../ollama/create-request.js';
import { createStatus } from '../../ollama/status.js';
import type { OllamaDeps } from './deps.js';
import { ollamaHandler } from './errors.js';
import { replyWithStatuses } from './status-stream.js';

export function createOllamaCreateHandler(deps: OllamaDeps): RequestHandler {
  return ollamaHandler(deps.logger, async (req: Request, res: Response) => {
    const parsed = parseOllamaCreate(req.body);
    await replyWithStatuses(deps, res, {
      stream: parsed.stream,
      run: async (send) => {
        await deps.catalog.create(parsed.model, parsed.request, { onEvent: (event) => send(createStatus(event)) });
      },
      finish: () => [{ status: 'success' }],
    });
  });
}
