/**
 * Which proxy, if any, a registry request goes through: HTTP_PROXY for http URLs, HTTPS_PROXY
 * for https URLs, unless NO_PROXY names the host. Pure: the settings arrive from config.ts
 * (the only reader of the environment) and nothing here resolves names.
 *
 * NO_PROXY is a comma- or space-separated list, read as curl and Go read it:
 * - `*` alone: no request uses a proxy;
 * - a name (`example.com`, `.example.com` or `*.example.com`): that host and every host below it;
 * - an IP address (`10.1.2.3`, `::1`): that address as written in the URL; a CIDR block
 *   (`10.0.0.0/8`, `fd00::/8`): every literal address inside it;
 * - any of these with `:port`: only requests to that port.
 * Names are compared without case and without a trailing dot. Loopback registries (localhost,
 * 127.0.0.0/8, ::1) are always reached directly, as Go's clients (Docker, skopeo) do: a proxy
 * elsewhere would reach its own loopback, not ours. `proxyLoopback` lifts that, for a proxy that
 * runs on this machine.
 */
import net from 'node:net';
import { AppError } from '../errors.js';
import { internalRangeOf } from './address-policy.js';

export interface ProxySettings {
  /** Proxy for http:// registries and redirects, e.g. "http://proxy:3128". Defaults to none. */
  httpProxy?: string;
  /** Proxy for https:// registries and redirects (reached with CONNECT). Defaults to none. */
  httpsProxy?: string;
  /** Hosts reached directly (see above). Defaults to none. */
  noProxy?: string;
  /** Send loopback registries through the proxy too (a proxy on this machine). Defaults to false. */
  proxyLoopback?: boolean;
}

/** A proxy as requests use it: where to connect and what to tell it. */
export interface ProxyEndpoint {
  host: string;
  port: number;
  /** "Basic ..." when the proxy URL carries credentials; sent to the proxy only. */
  authorization?: string;
  /** "host:port", for messages (never the credentials). */
  display: string;
}

interface NoProxyEntry {
  /** A lower-case name without leading dots, an IP literal, or undefined for a CIDR block. */
  host?: string;
  block?: net.BlockList;
  port?: number;
}

/** Parses a proxy URL; `name` names the setting in errors (the URL itself may hold a password). */
export function parseProxyUrl(raw: string, name: string): ProxyEndpoint {
  let url: URL;
  try {
    // A bare "host:port", as some tools accept, means http.
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new AppError('bad_request', `${name} is not a URL such as http://proxy.example.com:3128`);
  }
  if (url.protocol !== 'http:') {
    throw new AppError('bad_request', `${name} must be an http:// proxy URL (a proxy reached over TLS or SOCKS is not supported), got a ${url.protocol.replace(/:$/, '')}:// URL`);
  }
  if (url.hostname === '') throw new AppError('bad_request', `${name} names no proxy host`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port) || 80;
  const display = `${url.hostname}:${port}`;
  if (url.username === '' && url.password === '') return { host, port, display };
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return { host, port, display, authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` };
}

/** The error for a proxy that answered 407 to a request it was to relay to `url`. */
export function proxyAuthError(proxy: ProxyEndpoint, url: URL): AppError {
  const fix = proxy.authorization ? 'it refused the credentials in the proxy URL' : 'it requires credentials; put them in the proxy URL (http://user:password@host:port)';
  return new AppError('unauthorized', `proxy ${proxy.display} would not relay the request to ${url.host}: ${fix}`, { data: { status: 407 } });
}

function parseNoProxyEntry(raw: string): NoProxyEntry | undefined {
  let text = raw.trim().toLowerCase();
  if (text === '') return undefined;
  const slash = text.indexOf('/');
  if (slash > 0) {
    const address = text.slice(0, slash).replace(/^\[|\]$/g, '');
    const prefix = Number(text.slice(slash + 1));
    const family = net.isIP(address);
    if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
    const block = new net.BlockList();
    block.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    return { block };
  }
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    text = bracketed[1]!;
    port = bracketed[2] === undefined ? undefined : Number(bracketed[2]);
  } else if (net.isIP(text) !== 6) {
    const colon = text.lastIndexOf(':');
    if (colon > 0 && /^\d+$/.test(text.slice(colon + 1))) {
      port = Number(text.slice(colon + 1));
      text = text.slice(0, colon);
    }
  }
  const host = text.replace(/^\*?\.+/, '').replace(/\.$/, '');
  return host === '' ? undefined : { host, port };
}

export class ProxyRules {
  /** The proxy for http URLs (before NO_PROXY is consulted). */
  readonly http: ProxyEndpoint | undefined;
  /** The proxy for https URLs (before NO_PROXY is consulted). */
  readonly https: ProxyEndpoint | undefined;
  private readonly bypassAll: boolean;
  private readonly entries: NoProxyEntry[];
  private readonly proxyLoopback: boolean;

  constructor(settings: ProxySettings = {}) {
    this.http = settings.httpProxy ? parseProxyUrl(settings.httpProxy, 'HTTP_PROXY') : undefined;
    this.https = settings.httpsProxy ? parseProxyUrl(settings.httpsProxy, 'HTTPS_PROXY') : undefined;
    const items = (settings.noProxy ?? '').split(/[,\s]+/).filter(Boolean);
    this.bypassAll = items.includes('*');
    this.entries = items.map(parseNoProxyEntry).filter((e): e is NoProxyEntry => e !== undefined);
    this.proxyLoopback = settings.proxyLoopback ?? false;
  }

  /** The proxy for `url`, or undefined to connect directly. */
  proxyFor(url: URL): ProxyEndpoint | undefined {
    const proxy = url.protocol === 'https:' ? this.https : url.protocol === 'http:' ? this.http : undefined;
    if (proxy === undefined || this.bypassAll) return undefined;
    const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
    if (!this.proxyLoopback && isLoopback(host)) return undefined;
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    return this.entries.some((e) => matches(e, host, port)) ? undefined : proxy;
  }
}

function matches(entry: NoProxyEntry, host: string, port: number): boolean {
  if (entry.port !== undefined && entry.port !== port) return false;
  const family = net.isIP(host);
  if (entry.block) return family !== 0 && entry.block.check(host, family === 4 ? 'ipv4' : 'ipv6');
  if (family !== 0 || net.isIP(entry.host!) !== 0) return sameAddress(entry.host!, host);
  return host === entry.host || host.endsWith(`.${entry.host}`);
}

/** localhost (and names below it) and loopback literals (::ffff:127.0.0.1 included). */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || internalRangeOf(host) === 'loopback';
}

/** IP literals compared in their canonical form ("0:0::1" is "::1"). */
function sameAddress(a: string, b: string): boolean {
  const canonical = (ip: string): string => (net.isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname : ip);
  return net.isIP(a) !== 0 && net.isIP(b) !== 0 && canonical(a) === canonical(b);
}
