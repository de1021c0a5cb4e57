/**
 * The HTTP layer under the registry client: node:http/node:https with keep-alive agents,
 * redirects followed by hand (Range kept, Authorization dropped once the origin changes, as
 * Docker Hub's CDN rejects a second credential next to its signed URL; each hop a registry chose
 * checked by an AddressGuard, see address-policy.ts), requests sent through HTTP_PROXY or
 * HTTPS_PROXY unless NO_PROXY says otherwise (proxy-rules.ts: absolute-form requests for http
 * URLs, CONNECT tunnels for https ones), and transport failures turned into AppErrors that say
 * whether a retry may help.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { AppError } from '../errors.js';
import type { AddressGuard } from './address-policy.js';
import { leanGet, type LeanResponse } from './lean-get.js';
import { proxyAuthError, ProxyRules, type ProxySettings } from './proxy-rules.js';
import { TunnelAgent } from './proxy-tunnel.js';
import { DEFAULT_STALL_TIMEOUT_MS, StallGuard, stallMessage, type StallPolicy } from './stall-guard.js';

/** Sockets per host: a chunked download opens `concurrency` at once, and several layers download together. */
export const DEFAULT_MAX_SOCKETS = 64;
/** A response silent for this long is treated as a dead connection (and retried). */
export const DEFAULT_IDLE_TIMEOUT_MS = DEFAULT_STALL_TIMEOUT_MS;
export const MAX_REDIRECTS = 10;

export interface HttpTransportOptions {
  /** Sockets per origin kept by each agent. Defaults to DEFAULT_MAX_SOCKETS (64). */
  maxSockets?: number;
  /** Milliseconds a socket may stay silent during a request. Defaults to DEFAULT_IDLE_TIMEOUT_MS (30 s). */
  idleTimeoutMs?: number;
  /** HTTP_PROXY, HTTPS_PROXY and NO_PROXY as config.ts read them. Defaults to none (every connection direct). */
  proxy?: ProxySettings;
}

export interface SendOptions {
  method: string;
  url: URL;
  headers?: OutgoingHttpHeaders;
  /** A buffer, or a stream piped as the body; a stream is never replayed on redirects. */
  body?: Buffer | NodeJS.ReadableStream;
  signal?: AbortSignal;
  /** Refuses internal addresses for a URL a registry chose (a token realm). Defaults to none. */
  guard?: AddressGuard;
}

export interface RedirectOptions extends SendOptions {
  /** Follow at most this many redirects. Defaults to MAX_REDIRECTS (10). */
  maxRedirects?: number;
  /** Guards every hop after the first (the registry chose those URLs). Defaults to `guard`. */
  redirectGuard?: AddressGuard;
}

export interface FollowedResponse<R = IncomingMessage> {
  response: R;
  /** The URL that produced `response` (after redirects). */
  url: URL;
}

/** What callers of either transport read: node:http's IncomingMessage or a LeanResponse. */
export type BodyResponse = IncomingMessage | LeanResponse;

/** The part of a response that error handling and small-body reads need. */
export interface ResponseLike extends AsyncIterable<unknown> {
  statusCode?: number;
  headers: IncomingHttpHeaders;
  destroy(error?: Error): unknown;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Error codes of failures that a new connection may not repeat. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE']);

/** Marks an AppError as worth retrying (a server's Retry-After travels as `data.retryAfter`, see retry.ts). */
export function retryable(error: AppError): AppError {
  (error as { data?: Record<string, unknown> }).data = { ...error.data, retryable: true };
  return error;
}

export function isRetryable(error: unknown): boolean {
  return error instanceof AppError && error.data?.retryable === true;
}

/** The retryable error a stalled response is destroyed with (see stall-guard.ts). */
export function stallError(where: string, policy: StallPolicy, received: number): AppError {
  return retryable(new AppError('unavailable', stallMessage(where, policy, received), { data: { stalled: true } }));
}

/** Turns a socket-level failure into an AppError; `where` names the registry and repository. */
export function networkError(err: unknown, where: string, signal?: AbortSignal): AppError {
  if (err instanceof AppError) return err;
  if (signal?.aborted) return new AppError('aborted', `request to ${where} was cancelled`, { cause: err });
  const e = err as NodeJS.ErrnoException;
  const code = e?.code ?? '';
  const message = e?.message ?? String(err);
  const error = new AppError('unavailable', `cannot reach ${where}: ${code ? `${code} ` : ''}${message}`, { cause: err });
  // A proxy that answers CONNECT with 5xx could not reach the registry this time.
  if (TRANSIENT_CODES.has(code) || /socket hang up|aborted|premature/i.test(message) || Number((e as { status?: unknown }).status) >= 500) return retryable(error);
  return error;
}

export class HttpTransport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly idleTimeoutMs: number;
  private readonly proxies: ProxyRules;
  /** Connections to HTTP_PROXY, which relays absolute-form requests for http URLs. */
  private readonly forwardAgent: http.Agent | undefined;
  /** TLS over CONNECT tunnels through HTTPS_PROXY, pooled per registry. */
  private readonly tunnelAgent: https.Agent | undefined;

  constructor(options: HttpTransportOptions = {}) {
    const maxSockets = options.maxSockets ?? DEFAULT_MAX_SOCKETS;
    const agentOptions = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.proxies = new ProxyRules(options.proxy);
    // No keep-alive to the proxy: some (tinyproxy) close each connection after one answer without
    // saying so, and a request sent on such a socket fails with "socket hang up".
    this.forwardAgent = this.proxies.http && new http.Agent({ keepAlive: false, maxSockets });
    this.tunnelAgent = this.proxies.https && new TunnelAgent(this.proxies.https, this.idleTimeoutMs, agentOptions);
  }

  /** One request, no redirects. Resolves with the response whatever its status; rejects on transport failures. */
  async send(options: SendOptions): Promise<IncomingMessage> {
    const { method, url, headers = {}, body, signal, guard } = options;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new AppError('upstream', `refusing to fetch ${url.origin}: only http and https are supported`);
    }
    guard?.checkLiteral(url);
    const proxy = this.proxies.proxyFor(url);
    // Through a proxy no lookup of ours guards the socket: the name is judged here instead.
    if (proxy) await guard?.checkResolved(url);
    const lib = url.protocol === 'https:' ? https : http;
    let requestOptions: http.RequestOptions;
    if (proxy && url.protocol === 'http:') {
      // Absolute form to the proxy; its credentials travel in this hop's header, never further.
      const forwarded: OutgoingHttpHeaders = { ...headers, host: url.host };
      if (proxy.authorization) forwarded['proxy-authorization'] = proxy.authorization;
      requestOptions = { host: proxy.host, port: proxy.port, method, headers: forwarded, agent: this.forwardAgent, path: `${url.protocol}//${url.host}${url.pathname}${url.search}` };
    } else if (proxy) {
      requestOptions = { method, headers, agent: this.tunnelAgent };
    } else {
      // A guarded hop gets a fresh connection, so that its address is judged by the lookup below
      // rather than borrowed from a pooled socket that an unguarded request opened.
      const agent = guard && !guard.allowInternal ? false : url.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
      requestOptions = { method, headers, agent, ...(guard ? { lookup: guard.lookup } : {}) };
    }
    const relayed = proxy && url.protocol === 'http:' ? proxy : undefined;
    return new Promise<IncomingMessage>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      // Not http.request's `signal` option: its listener outlives the request, and a late abort
      // would then destroy the keep-alive socket another request is using by now.
      const request = relayed ? http.request(requestOptions) : lib.request(url, requestOptions);
      let response: IncomingMessage | undefined;
      const onAbort = (): void => {
        const error = abortError(signal!);
        response?.destroy(error);
        request.destroy(error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      request.once('close', () => signal?.removeEventListener('abort', onAbort));
      request.setTimeout(this.idleTimeoutMs, () => {
        request.destroy(Object.assign(new Error(`${url.host} sent nothing for ${this.idleTimeoutMs} ms (registry stall timeout)`), { code: 'ETIMEDOUT' }));
      });
      // `on`, not `once`: an abort after the response arrived errors the request again.
      request.on('error', reject);
      request.once('response', (res) => {
        response = res;
        if (relayed && res.statusCode === 407) {
          res.resume();
          return reject(proxyAuthError(relayed, url));
        }
        // Consumers read bodies by async iteration, which surfaces errors itself; a body that
        // is only drained (a redirect, a challenge) must not turn an abort into a crash.
        res.on('error', () => undefined);
        res.setTimeout(this.idleTimeoutMs, () => {
          res.destroy(Object.assign(new Error(`${url.host} sent nothing for ${this.idleTimeoutMs} ms (registry stall timeout)`), { code: 'ETIMEDOUT' }));
        });
        resolve(res);
      });
      if (body === undefined) request.end();
      else if (Buffer.isBuffer(body)) request.end(body);
      else {
        const stream = body instanceof Readable ? body : Readable.from(body as AsyncIterable<Buffer>);
        // A server may answer (401, 413) before reading the whole body; the request error then
        // surfaces through 'error' above or not at all, and the stream must not stay open.
        stream.once('error', (err) => request.destroy(err));
        request.once('close', () => stream.destroy());
        stream.pipe(request);
      }
    });
  }

  /**
   * A GET whose body is read with LeanResponse (one reused read buffer; see lean-get.ts), for
   * blob bodies. An answer framed in a way it does not read (chunked) is asked again of node:http.
   */
  async sendLean(options: SendOptions): Promise<BodyResponse> {
    const { url, headers = {}, signal } = options;
    if (options.method !== 'GET' || options.body !== undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) return this.send(options);
    if (signal?.aborted) throw abortError(signal);
    options.guard?.checkLiteral(url);
    const proxy = this.proxies.proxyFor(url);
    if (proxy) await options.guard?.checkResolved(url);
    const response = await leanGet(url, { headers, signal, idleTimeoutMs: this.idleTimeoutMs, lookup: options.guard?.lookup, proxy });
    if (proxy && url.protocol === 'http:' && response.statusCode === 407) {
      response.destroy();
      throw proxyAuthError(proxy, url);
    }
    if (response.framing !== 'unsupported') return response;
    response.destroy();
    return this.send(options);
  }

  /** A request that follows redirects by hand (GET and HEAD only; bodies are never replayed). */
  sendFollowingRedirects(options: RedirectOptions): Promise<FollowedResponse> {
    return this.follow(options, (o) => this.send(o));
  }

  /** sendFollowingRedirects for blob GETs: every hop through sendLean. */
  sendLeanFollowingRedirects(options: RedirectOptions): Promise<FollowedResponse<BodyResponse>> {
    return this.follow(options, (o) => this.sendLean(o));
  }

  private async follow<R extends BodyResponse>(options: RedirectOptions, send: (options: SendOptions) => Promise<R>): Promise<FollowedResponse<R>> {
    const maxRedirects = options.maxRedirects ?? MAX_REDIRECTS;
    const origin = options.url.origin;
    let url = options.url;
    let headers = { ...options.headers };
    const redirectGuard = options.redirectGuard ?? options.guard;
    for (let hop = 0; ; hop++) {
      const response = await send({ ...options, url, headers, guard: hop === 0 ? options.guard : redirectGuard });
      const location = response.headers.location;
      if (!REDIRECT_STATUSES.has(response.statusCode ?? 0) || !location || options.body !== undefined) {
        return { response, url };
      }
      response.resume();
      if (hop >= maxRedirects) {
        throw new AppError('upstream', `too many redirects (more than ${maxRedirects}) fetching ${options.url.href.split('?')[0]}`);
      }
      const next = new URL(location, url);
      // The signed query of a CDN URL is its credential; ours must not travel with it.
      if (next.origin !== origin) headers = withoutAuthorization(headers);
      url = next;
    }
  }

  /** Closes idle keep-alive sockets; in-flight requests finish. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.forwardAgent?.destroy();
    this.tunnelAgent?.destroy();
  }
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), { name: 'AbortError', code: 'ABORT_ERR' });
}

function withoutAuthorization(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const copy: OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== 'authorization') copy[key] = value;
  }
  return copy;
}

/** Reads a (small) response body, refusing more than `limit` bytes, and one that stalls under `stall`. */
export async function readBody(response: ResponseLike, limit: number, what: string, stall?: StallPolicy): Promise<Buffer> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    response.destroy();
    throw new AppError('upstream', `${what} is ${declared} bytes, more than the ${limit} allowed`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const guard = stall && new StallGuard(stall, (received) => response.destroy(stallError(what, stall, received)));
  try {
    for await (const chunk of response) {
      guard?.progress((chunk as Buffer).length);
      size += (chunk as Buffer).length;
      if (size > limit) {
        response.destroy();
        throw new AppError('upstream', `${what} is more than the ${limit} bytes allowed`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    throw networkError(err, what);
  } finally {
    guard?.dispose();
  }
  return Buffer.concat(chunks, size);
}
