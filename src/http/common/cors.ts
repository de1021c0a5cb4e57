/**
 * CORS for browser clients. Ollama's defaults, with the wildcard handling Docker Model Runner's
 * users asked for (its own middleware compares origins as exact strings, so `http://localhost:*`
 * and `https://*.example.com` never match there):
 *
 * - Allowed: the configured origins (DMR_ORIGINS) plus http(s)://localhost, 127.0.0.1, 0.0.0.0 and
 *   [::1], with or without a port. `*` alone allows every origin.
 * - A `*` in the host stands for one or more DNS labels (`https://*.example.com` matches
 *   `https://a.b.example.com`, not `https://example.com`); a `*` port stands for any port.
 * - Requests without an Origin header (curl, SDKs, same-process tools) pass untouched.
 * - With `*` the answer is a literal `Access-Control-Allow-Origin: *` and never
 *   Access-Control-Allow-Credentials: reflecting every origin with credentials would let any web
 *   page make credentialed requests and read the answers.
 * - Otherwise an allowed origin is echoed in Access-Control-Allow-Origin with credentials allowed.
 * - A preflight (OPTIONS with Access-Control-Request-Method) from an allowed origin is answered 204
 *   here with the methods and headers the API takes (Authorization and x-api-key among them, which
 *   a `*` in Allow-Headers would not cover), so no route has to know about OPTIONS.
 * - Any other origin gets 403 "Origin not allowed", as Docker answers.
 */
import type { RequestHandler } from 'express';
import { AppError } from '../../errors.js';
import { sendTextError } from './error-status.js';

const DEFAULT_HOSTS = ['localhost', '127.0.0.1', '0.0.0.0', '[::1]'];
const ALLOWED_METHODS = 'GET, HEAD, POST, DELETE, OPTIONS';
/** Headers the API reads, always allowed in a preflight; headers the preflight asks for are added. */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'x-api-key', 'Accept', 'X-Preload-Only'];
/** An HTTP header name (RFC 9110 token); anything else in Access-Control-Request-Headers is dropped. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;
/** Seconds a browser may cache a preflight answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** Origins that are always allowed: the loopback and any-address hosts on any port, both schemes. */
export const DEFAULT_ORIGINS: readonly string[] = ['http', 'https'].flatMap((scheme) =>
  DEFAULT_HOSTS.flatMap((host) => [`${scheme}://${host}`, `${scheme}://${host}:*`]),
);

/** One DNS label or more, separated by dots; never a slash, colon or @ so it cannot leave the host. */
const HOST_WILDCARD = '[a-z0-9-]+(?:\\.[a-z0-9-]+)*';
const PORT_WILDCARD = '\\d{1,5}';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Compiles one origin pattern into an anchored, case-insensitive matcher. Entries that are not
 * `scheme://host[:port]` (such as `null`) only match themselves.
 */
export function compileOriginPattern(pattern: string): (origin: string) => boolean {
  const entry = pattern.trim().replace(/\/+$/, '').toLowerCase();
  const parts = /^([a-z][a-z0-9+.-]*):\/\/(.*?)(?::(\d+|\*))?$/.exec(entry);
  if (!parts) return (origin) => origin.toLowerCase() === entry;
  const [, scheme, host, port] = parts;
  const hostSource = host!.split('*').map(escapeRegExp).join(HOST_WILDCARD);
  const portSource = port === undefined ? '' : `:${port === '*' ? PORT_WILDCARD : port}`;
  const regex = new RegExp(`^${escapeRegExp(scheme!)}://${hostSource}${portSource}$`, 'i');
  return (origin) => regex.test(origin);
}

export type OriginPolicy = ((origin: string) => boolean) & {
  /** True when `*` was configured: every origin is allowed, and none is echoed back. */
  readonly any: boolean;
};

/**
 * Decides whether an origin is allowed by the configured list plus the defaults.
 * `origins` are DMR_ORIGINS entries; empty entries are ignored.
 */
export function createOriginPolicy(origins: readonly string[]): OriginPolicy {
  const configured = origins.map((o) => o.trim()).filter((o) => o !== '');
  if (configured.includes('*')) return Object.assign(() => true, { any: true });
  const matchers = [...configured, ...DEFAULT_ORIGINS].map(compileOriginPattern);
  return Object.assign((origin: string) => matchers.some((matches) => matches(origin)), { any: false });
}

/** The allowed headers plus those the preflight asks for (SDKs add their own, such as anthropic-version). */
function allowedHeaders(requested: string | undefined): string {
  const names = [...ALLOWED_HEADERS];
  const known = new Set(names.map((n) => n.toLowerCase()));
  for (const name of (requested ?? '').split(',').map((n) => n.trim())) {
    if (HEADER_NAME.test(name) && !known.has(name.toLowerCase())) {
      known.add(name.toLowerCase());
      names.push(name);
    }
  }
  return names.join(', ');
}

/** Express middleware applying the policy above; mount it before any router. */
export function corsMiddleware(origins: string[]): RequestHandler {
  const allowed = createOriginPolicy(origins);
  return (req, res, next) => {
    const origin = req.get('origin');
    if (origin === undefined) return next();
    if (!allowed(origin)) return sendTextError(res, new AppError('forbidden', 'Origin not allowed'));

    if (allowed.any) {
      res.setHeader('Access-Control-Allow-Origin', '*');
    } else {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.vary('Origin');
    }
    if (req.method !== 'OPTIONS' || req.get('access-control-request-method') === undefined) return next();

    res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
    res.setHeader('Access-Control-Allow-Headers', allowedHeaders(req.get('access-control-request-headers')));
    res.setHeader('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SECONDS));
    res.vary('Access-Control-Request-Headers');
    res.status(204).end();
  };
}
