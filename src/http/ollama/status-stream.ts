/**
 * The NDJSON status stream of Ollama's long operations (pull, push, create): `{"status": ...}`
 * lines while the work runs and `{"status":"success"}` last, or, with `stream: false`, only that
 * final object. Headers wait for the first status, so a failure before it (an unknown model, a
 * registry refusal) still gets its own HTTP status and `{"error"}` body; a later failure arrives
 * as an `{"error"}` line that ends the stream.
 */
import type { Response } from 'express';
import type { OllamaStatus } from '../../ollama/status.js';
import { disconnectSignal } from '../common/disconnect.js';
import { createNdjsonWriter, type NdjsonWriter } from '../common/ndjson.js';
import type { OllamaDeps } from './deps.js';
import { sendOllamaStreamError } from './errors.js';

export type SendStatuses = (statuses: OllamaStatus[]) => void;

export interface StatusStreamOptions {
  /** False: nothing is written until the end, which is one `{"status":"success"}` object. */
  stream: boolean;
  /** Does the work, telling its statuses through `send`; stops when `signal` aborts (the client left). */
  run(send: SendStatuses, signal: AbortSignal): Promise<void>;
  /** The statuses that close a stream after `run` resolved, ending with `{"status":"success"}`. */
  finish(): OllamaStatus[];
}

export async function replyWithStatuses(deps: Pick<OllamaDeps, 'logger'>, res: Response, options: StatusStreamOptions): Promise<void> {
  const disconnect = disconnectSignal(res);
  let writer: NdjsonWriter | undefined;
  const send: SendStatuses = (statuses) => {
    if (!options.stream || statuses.length === 0) return;
    writer ??= createNdjsonWriter(res);
    // Status lines are small and ordered, so they are not awaited; a client that stops reading
    // is still cut off by the write stall limit (drain.ts).
    for (const status of statuses) void writer.write(status);
  };
  try {
    await options.run(send, disconnect.signal);
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
  if (!options.stream) {
    res.json({ status: 'success' });
    return;
  }
  send(options.finish());
  writer?.end();
}
