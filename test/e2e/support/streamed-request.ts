/**
 * A request whose body is sent in two parts, with a pause between them in which the test changes
 * the world (fills the disk). The server may answer before the body is all sent (a 507 closes
 * the connection): sending stops there, and the answer is what the test gets.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { Reply } from '../../support/http-client.js';

const PIECE_BYTES = 64 * 1024;

export interface StreamedRequestOptions {
  headers: http.OutgoingHttpHeaders;
  body: Buffer;
  /** Bytes sent before `pause` runs. Defaults to the whole body. */
  pauseAfter?: number;
  /** Runs once `pauseAfter` bytes are sent. Defaults to nothing. */
  pause?: () => Promise<void>;
  /** Send the headers only and wait for the answer (a refusal that must come before any byte). */
  headersOnly?: boolean;
  /** The Content-Length announced. Defaults to the body's length. */
  contentLength?: number;
}

export function streamedRequest(socketPath: string, urlPath: string, options: StreamedRequestOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request({ socketPath, path: urlPath, method: 'POST', headers: { ...options.headers, 'content-length': options.contentLength ?? options.body.length }, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', () => undefined);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = body.toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) });
        req.destroy();
      });
    });
    // Once answered, a connection closed under the rest of the body is expected.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    if (options.headersOnly) {
      req.flushHeaders();
      return;
    }
    const responded = once(req, 'response');
    const send = async (from: number, to: number): Promise<void> => {
      for (let at = from; at < to && !answered; at += PIECE_BYTES) {
        if (!req.write(options.body.subarray(at, Math.min(to, at + PIECE_BYTES)))) await Promise.race([once(req, 'drain'), responded]);
      }
    };
    (async () => {
      const pauseAfter = options.pauseAfter ?? options.body.length;
      await send(0, pauseAfter);
      if (!answered) await options.pause?.();
      await send(pauseAfter, options.body.length);
      if (!answered) req.end();
    })().catch((err: unknown) => {
      if (!answered) reject(err as Error);
    });
  });
}
