/**
 * POST /api/push: the catalog's push (the one `model-runner push` and Docker's push route use) to
 * the registry the model's name points at, with Ollama's status stream. `insecure` is accepted and
 * changes nothing: loopback registries are always reached over plain HTTP, others as the server's
 * --insecure-registry list says, so a request cannot downgrade the transport on its own.
 */
import type { Request, RequestHandler, Response } from 'express';
import { parseModelName, parseStream, requireObjectBody } from '../../ollama/common.js';
import { PushStatusMapper } from '../../ollama/push-progress.js';
import { optionalBoolean } from '../../openai/validate.js';
import type { OllamaDeps } from './deps.js';
import { ollamaHandler } from './errors.js';
import { replyWithStatuses } from './status-stream.js';

export function createOllamaPushHandler(deps: OllamaDeps): RequestHandler {
  return ollamaHandler(deps.logger, async (req: Request, res: Response) => {
    const body = requireObjectBody(req.body);
    const name = parseModelName(body);
    optionalBoolean(body, 'insecure');
    const mapper = new PushStatusMapper();
    await replyWithStatuses(deps, res, {
      stream: parseStream(body),
      run: async (send, signal) => {
        await deps.catalog.push(name, { signal, onEvent: (event) => send(mapper.map(event)) });
      },
      finish: () => mapper.finish(),
    });
  });
}
