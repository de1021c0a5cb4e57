/**
 * HEAD and POST /api/blobs/:digest: whether the store holds a blob, and a client's upload of one
 * (the GGUF a `create` will name). The body streams into the store's blob area under the upload
 * limit, is hashed on the way and becomes visible only when it matches the digest in the path:
 * 201 when stored, 200 when the store already had it, 400 naming both digests when they differ.
 */
import type { Request, RequestHandler, Response } from 'express';
import { AppError } from '../../errors.js';
import { parseBlobDigest } from '../../ollama/create-request.js';
import { ByteLimit } from '../common/byte-limit.js';
import type { OllamaDeps } from './deps.js';
import { ollamaHandler } from './errors.js';

function digestParam(req: Request): string {
  return parseBlobDigest(req.params.digest, 'digest');
}

export function createBlobHandlers(deps: OllamaDeps): { head: RequestHandler; upload: RequestHandler } {
  const head = ollamaHandler(deps.logger, async (req: Request, res: Response) => {
    const digest = digestParam(req);
    if (!(await deps.catalog.hasBlob(digest))) throw new AppError('not_found', `blob ${digest} not found`);
    res.status(200).end();
  });

  const upload = ollamaHandler(deps.logger, async (req: Request, res: Response) => {
    const digest = digestParam(req);
    const length = Number(req.get('content-length'));
    const sizeBytes = Number.isFinite(length) && length >= 0 ? length : undefined;
    const max = deps.maxUploadBytes;
    if (max !== undefined && sizeBytes !== undefined && sizeBytes > max) {
      res.set('Connection', 'close');
      throw new AppError('too_large', `the uploaded blob is larger than the limit of ${max} bytes`);
    }
    const source = max === undefined ? req : req.pipe(new ByteLimit(max, 'the uploaded blob'));
    if (source !== req) req.on('error', (err) => source.destroy(err));
    let created: boolean;
    try {
      created = await deps.catalog.receiveBlob({ digest, source, ...(sizeBytes === undefined ? {} : { sizeBytes }) });
    } catch (err) {
      // The rest of the body may be unread; closing the connection is cheaper than draining it.
      res.set('Connection', 'close');
      throw err;
    }
    if (!created) res.set('Connection', 'close');
    res.status(created ? 201 : 200).end();
  });

  return { head, upload };
}
