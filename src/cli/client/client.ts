/**
 * A small HTTP client for the model-runner API over node:http, on a Unix socket or a URL.
 * Every method throws AppError: the server's own message for a non-2xx answer, and a
 * "not running" message when nothing listens at the target.
 */
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { AppError } from '../../errors.js';
import { VERSION } from '../../version.js';
import { serverError } from './server-error.js';
import { notRunningMessage, type Target } from './target.js';

export interface RequestOptions {
  /** HTTP method. Defaults to GET. */
  method?: string;
  /** Query parameters; undefined values are left out. Defaults to none. */
  query?: Record<string, string | undefined>;
  /** A value sent as application/json. Defaults to no body. */
  json?: unknown;
  /** A raw body (a file stream or bytes); set Content-Type and Content-Length in `headers`. Defaults to no body. */
  body?: Readable | Buffer;
  /** Extra request headers. Defaults to none. */
  headers?: OutgoingHttpHeaders;
  /** Aborts the request and its response. Defaults to none. */
  signal?: AbortSignal;
}

/** Error codes of a connection attempt that mean "no server there", as opposed to a broken one. */
const NOT_RUNNING_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'EHOSTUNREACH']);
const ERROR_BODY_LIMIT = 64 * 1024;

/**
 * The path of a model route: names keep their slashes (the server's `{name...}` wildcard) and
 * each segment is escaped, so "ai/smollm2:latest" stays two segments.
 */
export function modelPath(name: string, suffix = ''): string {
  const segments = name.split('/').map((segment) => encodeURIComponent(segment));
  return `/models/${segments.join('/')}${suffix}`;
}

export class ModelRunnerClient {
  readonly userAgent = `model-runner-cli/${VERSION}`;

  constructor(readonly target: Target) {}

  /** Sends a request; resolves with a 2xx response whose body the caller must consume. */
  request(path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    const headers: OutgoingHttpHeaders = { 'User-Agent': this.userAgent, ...options.headers };
    let payload: Buffer | undefined;
    if (options.json !== undefined) {
      payload = Buffer.from(JSON.stringify(options.json));
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = payload.length;
    } else if (Buffer.isBuffer(options.body)) {
      payload = options.body;
      headers['Content-Length'] = payload.length;
    }
    const url = this.pathWithQuery(path, options.query);
    const base = this.target.kind === 'socket'
      ? { socketPath: this.target.socketPath, path: url, headers: { Host: 'localhost', ...headers } }
      : {
          host: this.target.url.hostname,
          port: this.target.url.port || 80,
          path: url,
          headers: this.target.apiKey === undefined ? headers : { Authorization: `Bearer ${this.target.apiKey}`, ...headers },
        };

    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = http.request({ ...base, method: options.method ?? 'GET', signal: options.signal });
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.connectionError(err)));
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(res);
        readText(res, ERROR_BODY_LIMIT).then(
          (text) => reject(serverError(status, text, res.statusMessage)),
          (err: unknown) => reject(this.connectionError(err as NodeJS.ErrnoException)),
        );
      });
      if (payload !== undefined) req.end(payload);
      else if (options.body !== undefined && !Buffer.isBuffer(options.body)) {
        const body = options.body;
        // A failing file is the client's problem, not a missing server: say so before the socket error arrives.
        body.on('error', (err) => {
          reject(new AppError('internal', `reading the request body failed: ${err.message}`, { cause: err }));
          req.destroy();
        });
        body.pipe(req);
      } else req.end();
    });
  }

  /** GET (or another method) whose answer is JSON. */
  async json<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.request(path, { ...options, headers: { Accept: 'application/json', ...options.headers } });
    const text = await readText(res);
    if (text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new AppError('upstream', `the server answered ${path} with something that is not JSON: ${text.slice(0, 200)}`);
    }
  }

  /** A request whose answer is read as text. */
  async text(path: string, options: RequestOptions = {}): Promise<string> {
    return readText(await this.request(path, options));
  }

  /** A URL target's own path is a prefix (Docker Desktop serves the API under /exp/vDD4.40). */
  private pathWithQuery(path: string, query: RequestOptions['query']): string {
    const prefix = this.target.kind === 'url' ? this.target.url.pathname.replace(/\/+$/, '') : '';
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) params.append(key, value);
    const search = params.toString();
    return `${prefix}${path}${search ? `?${search}` : ''}`;
  }

  private connectionError(err: NodeJS.ErrnoException): AppError {
    if (err instanceof AppError) return err;
    if (err.name === 'AbortError') return new AppError('aborted', 'the request was cancelled', { cause: err });
    if (err.code && NOT_RUNNING_CODES.has(err.code)) {
      const stale = this.target.kind === 'socket' && err.code !== 'ENOENT';
      return new AppError('unavailable', notRunningMessage(this.target, stale), { cause: err });
    }
    return new AppError('unavailable', `cannot talk to model-runner: ${err.message}`, { cause: err });
  }
}

/** Reads a whole body as UTF-8 text, keeping at most `limit` characters. */
export async function readText(res: Readable, limit = Infinity): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) {
    if (text.length < limit) text += chunk as string;
  }
  return text.length > limit ? text.slice(0, limit) : text;
}
