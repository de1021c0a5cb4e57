/**
 * The node:http servers the app listens through, on the socket and on TCP alike, with timeouts
 * chosen for this API rather than Node's defaults.
 */
import http from 'node:http';

/**
 * How long a client may take to send its request headers: protects against connections that
 * trickle headers forever (Node's own default, written down so it cannot silently change).
 */
export const HEADERS_TIMEOUT_MS = 60_000;

/**
 * A server whose requests have no overall time limit. Node's default requestTimeout (300 s) would
 * cut a model upload (POST /models/load, gigabytes) or a long pull request after five minutes;
 * streamed responses are bounded by the write stall limit instead (drain.ts), and headers by
 * HEADERS_TIMEOUT_MS.
 */
export function createHttpServer(listener: http.RequestListener): http.Server {
  return http.createServer({ requestTimeout: 0, headersTimeout: HEADERS_TIMEOUT_MS }, listener);
}
