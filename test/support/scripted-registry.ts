/**
 * A bare HTTP server standing in for a registry (or a token server, or a CDN) whose every answer
 * the test writes: a hostile one that asks for credentials, names a token realm or redirects
 * somewhere, lies about sizes, or stalls until the test lets it go. Every request is recorded
 * (method, path, headers) and announced, so tests wait on requests rather than on time.
 *
 *   const evil = await startScriptedRegistry((req, res) => res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end());
 *   after(() => evil.close());
 *   ... evil.requests.map((r) => r.headers.authorization) ...
 */
import { EventEmitter, once } from 'node:events';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DOCKER_CONFIG_V01, DOCKER_GGUF, OCI_MANIFEST } from '../../src/models/media-types.js';
import { sha256Digest } from '../../src/util/digest.js';
import { parseRange } from './fake-cdn.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

export type ScriptedHandler = (req: IncomingMessage, res: ServerResponse, index: number) => void;

export interface ScriptedRegistry {
  /** "127.0.0.1:PORT" (host as it listens). */
  url: string;
  port: number;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Replaces the handler. */
  handle(handler: ScriptedHandler): void;
  /** Resolves with the first request (already received or not) that matches. */
  waitForRequest(match: (r: RecordedRequest) => boolean): Promise<RecordedRequest>;
  close(): Promise<void>;
}

export async function startScriptedRegistry(handler: ScriptedHandler, host = '127.0.0.1'): Promise<ScriptedRegistry> {
  const requests: RecordedRequest[] = [];
  const events = new EventEmitter();
  let current = handler;
  const server = http.createServer((req, res) => {
    const recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers };
    requests.push(recorded);
    events.emit('request', recorded);
    try {
      current(req, res, requests.length - 1);
    } catch {
      res.destroy();
    }
  });
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    requests,
    handle: (next) => {
      current = next;
    },
    waitForRequest: (match) => {
      const seen = requests.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => {
        const listener = (r: RecordedRequest): void => {
          if (!match(r)) return;
          events.off('request', listener);
          resolve(r);
        };
        events.on('request', listener);
      });
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A 401 asking for Basic credentials, as distribution's htpasswd auth sends it. */
export function basicChallenge(res: ServerResponse): void {
  res.writeHead(401, { 'www-authenticate': 'Basic realm="registry"', 'content-type': 'application/json' });
  res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
}

/** A 401 naming a Bearer token realm. */
export function bearerChallenge(res: ServerResponse, realm: string): void {
  res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="scripted"`, 'content-type': 'application/json' });
  res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
}

/** Answers a blob GET as a well-behaved registry does: the whole body, or the Range asked for (206, or 416). */
export function answerBlob(req: IncomingMessage, res: ServerResponse, data: Buffer): void {
  const range = parseRange(req.headers.range, data.length);
  if (range === 'invalid') {
    res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
  } else if (range === undefined) {
    res.writeHead(200, { 'content-length': data.length, 'accept-ranges': 'bytes' }).end(data);
  } else {
    const body = data.subarray(range.start, range.end + 1);
    res.writeHead(206, { 'content-length': body.length, 'content-range': `bytes ${range.start}-${range.end}/${data.length}` }).end(body);
  }
}

/** The bytes of an OCI image manifest for a model: `config` as Docker's model config (v0.1), each of `layers` as a GGUF layer. */
export function modelManifest(config: Buffer, layers: Buffer[]): Buffer {
  const descriptor = (mediaType: string, bytes: Buffer) => ({ mediaType, digest: sha256Digest(bytes), size: bytes.length });
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor(DOCKER_CONFIG_V01, config), layers: layers.map((layer) => descriptor(DOCKER_GGUF, layer)) }));
}

/** Answers a manifest GET with `manifest` (200, as an OCI image manifest). */
export function answerManifest(res: ServerResponse, manifest: Buffer): void {
  res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': manifest.length }).end(manifest);
}

/** An OCI error body with `status`, and any extra headers (Retry-After). */
export function answerError(res: ServerResponse, status: number, code: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(JSON.stringify({ errors: [{ code, message: code.toLowerCase() }] }));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length, ...headers }).end(body);
}
