/**
 * What guards the TCP listener, which unlike the Unix socket is reachable by anything that can
 * open a connection: browsers on this machine (DNS rebinding), and other hosts when it binds a
 * non-loopback address. The socket needs none of this: its file mode decides who may connect,
 * and clients there send whatever Host they like.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { AppError } from '../../errors.js';
import { sendErrorForPath } from './dialect-error.js';
import { createHostPolicy, type HostPolicyOptions, isLoopbackHost } from './host-policy.js';

/** Host values are echoed in the refusal; an absurdly long one is cut rather than reflected whole. */
const MAX_ECHOED_HOST = 200;

/** Refuses (403) a request whose Host is not one this server answers to; see host-policy.ts. */
export function hostCheck(options: HostPolicyOptions): RequestHandler {
  const allowed = createHostPolicy(options);
  return (req, res, next) => {
    const host = req.headers.host;
    if (allowed(host, req.socket.localAddress)) return next();
    const shown = JSON.stringify((host ?? '').slice(0, MAX_ECHOED_HOST));
    const message =
      `Host ${shown} is not allowed: on TCP this server answers only to localhost, loopback addresses, ` +
      'its own address and the names listed in --allowed-hosts (MODEL_RUNNER_ALLOWED_HOSTS); add the name there to serve it';
    sendErrorForPath(req, res, new AppError('forbidden', message));
  };
}

/** The key a request presents: `Authorization: Bearer <key>` (OpenAI SDKs), else `x-api-key` (Anthropic SDKs). */
function presentedKey(req: Request): string | undefined {
  const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.get('authorization') ?? '');
  if (bearer) return bearer[1];
  const header = req.get('x-api-key')?.trim();
  return header ? header : undefined;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Refuses (401, WWW-Authenticate: Bearer) a request that does not carry `apiKey`. Keys are compared
 * as SHA-256 digests with timingSafeEqual: equal lengths whatever was sent, and no early exit that
 * would tell an attacker how many leading characters were right.
 */
export function apiKeyCheck(apiKey: string): RequestHandler {
  const expected = sha256(apiKey);
  return (req, res, next) => {
    const presented = presentedKey(req);
    if (presented !== undefined && timingSafeEqual(sha256(presented), expected)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer realm="model-runner"');
    const message = presented === undefined
      ? 'an API key is required: send Authorization: Bearer <key> or x-api-key: <key>'
      : 'the API key is not valid';
    sendErrorForPath(req, res, new AppError('unauthorized', message));
  };
}

export interface TcpBindOptions {
  /** The address the TCP listener is asked to bind (--host). */
  host: string;
  /** The API key, when one is configured. */
  apiKey: string | undefined;
  /** --insecure-bind: the operator accepts an open non-loopback listener. */
  insecureBind: boolean;
}

/**
 * Throws before anything listens when the TCP listener would be open to other machines with no
 * key: anyone who could reach it could run, pull and delete models. The message says how to fix it.
 */
export function checkTcpBind(options: TcpBindOptions): void {
  if (isLoopbackHost(options.host) || options.apiKey !== undefined || options.insecureBind) return;
  throw new AppError(
    'forbidden',
    `refusing to listen on ${options.host} without an API key: any machine that can reach that address could use the whole API. ` +
      'Set MODEL_RUNNER_API_KEY (or --api-key-file), listen on a loopback address (--host 127.0.0.1), ' +
      'or pass --insecure-bind (MODEL_RUNNER_INSECURE_BIND=true) to accept the risk',
  );
}
