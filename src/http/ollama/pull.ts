/**
 * POST /api/pull: the catalog's pull with Ollama's NDJSON statuses. Headers wait for the first
 * catalog event, so a reference that cannot be parsed, a registry refusal or a missing manifest
 * still gets its own status and {"error"} body; later failures arrive as an {"error"} line.
 */
import type { Request, RequestHandler, Response } from 'express';
import { AppError } from '../../errors.js';
import { parseModelName, parseStream, requireObjectBody } from '../../ollama/common.js';
import { type OllamaPullStatus, PullStatusMapper } from '../../ollama/pull-progress.js';
import { disconnectSignal } from '../common/disconnect.js';
import { createNdjsonWriter, type NdjsonWriter } from '../common/ndjson.js';
import type { OllamaDeps } from './deps.js';
import { ollamaHandler, sendOllamaStreamError } from './errors.js';

export function createOllamaPullHandler(deps: OllamaDeps): RequestHandler {
  return ollamaHandler(deps.logger, async (req: Request, res: Response) => {
    const body = requireObjectBody(req.body);
    const name = parseModelName(body);
    const stream = parseStream(body);
    const disconnect = disconnectSignal(res);
    const mapper = new PullStatusMapper();
    let writer: NdjsonWriter | undefined;
    // With stream:false nothing is written until the end; the statuses are only counted off.
    const send = (statuses: OllamaPullStatus[]) => {
      if (!stream || statuses.length === 0) return;
      writer ??= createNdjsonWriter(res);
      // Progress lines are small and ordered, so they are not awaited; a client that stops reading
      // is still cut off by the write stall limit (drain.ts).
      for (const status of statuses) void writer.write(status);
    };
    try {
      await deps.catalog.pull(name, { signal: disconnect.signal, onEvent: (event) => send(mapper.map(event)) });
    } catch (err) {
      if (disconnect.signal.aborted) return;
      if (writer) {
        await sendOllamaStreamError(writer, err, deps.logger);
        return;
      }
      throw err;
    } finally {
      disconnect.dispose();
    }
    if (!stream) {
      res.json({ status: 'success' });
      return;
    }
    send(mapper.finish());
    writer?.end();
  });
}
