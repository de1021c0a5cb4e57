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
 * - An allowed origin is echoed in Access-Control-Allow-Origin with credentials allowed; a
 *   preflight OPTIONS from it is answered 204 here, so no route has to know about OPTIONS.
 * - Any other origin gets 403 "Origin not allowed", as Docker answers.
 */
import type { RequestHandler } from 'express';
import { AppError } from '../errors.js';
import { sendTextError } from './error-status.js';

const DEFAULT_HOSTS = ['localhost', '127.0.0.1', '0.0.0.0', '[::1]'];
const ALLOWED_METHODS = 'GET, POST, DELETE, OPTIONS';

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

/**
 * Decides whether an origin is allowed by the configured list plus the defaults.
 * `origins` are DMR_ORIGINS entries; empty entries are ignored.
 */
export function createOriginPolicy(origins: readonly string[]): (origin: string) => boolean {
  const configured = origins.map((o) => o.trim()).filter((o) => o !== '');
  if (configured.includes('*')) return () => true;
  const matchers = [...configured, ...DEFAULT_ORIGINS].map(compileOriginPattern);
  return (origin) => matchers.some((matches) => matches(origin));
}

/** Express middleware applying the policy above; mount it before any router. */
export function corsMiddleware(origins: string[]): RequestHandler {
  const allowed = createOriginPolicy(origins);
  return (req, res, next) => {
    const origin = req.get('origin');
    if (origin === undefined) return next();
    if (!allowed(origin)) return sendTextError(res, new AppError('forbidden', 'Origin not allowed'));

    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.vary('Origin');
    if (req.method !== 'OPTIONS') return next();

    res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
    res.setHeader('Access-Control-Allow-Headers', req.get('access-control-request-headers') ?? '*');
    res.vary('Access-Control-Request-Headers');
    res.status(204).end();
  };
}
