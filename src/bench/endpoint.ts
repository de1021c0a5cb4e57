/**
 * Where the benchmark sends its requests. Two spellings are accepted:
 *
 *   http://HOST:PORT/BASE            e.g. http://127.0.0.1:8080/v1
 *   unix:SOCKET_PATH[:BASE]          e.g. unix:/run/model-runner.sock:/engines/llama.cpp/v1
 *
 * BASE is the OpenAI API root: `/chat/completions` is appended to it. In the unix form the
 * socket path ends at the first ":/" (so a socket path may not contain ":/"); a relative socket
 * path ("unix:model-runner.sock") is resolved against the working directory. BASE defaults to
 * DEFAULT_UNIX_BASE for sockets and to "/v1" for http URLs without a path.
 */
import path from 'node:path';
import { AppError } from '../errors.js';

/** The OpenAI root our server serves on its socket for the llama.cpp engine. */
export const DEFAULT_UNIX_BASE = '/engines/llama.cpp/v1';
const DEFAULT_HTTP_BASE = '/v1';

export type Endpoint =
  | { kind: 'unix'; socketPath: string; basePath: string }
  | { kind: 'tcp'; host: string; port: number; basePath: string };

function normalizeBase(base: string): string {
  const trimmed = base.replace(/\/+$/, '');
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

export function parseEndpoint(spec: string): Endpoint {
  if (spec.startsWith('unix:')) {
    const rest = spec.slice('unix:'.length);
    const split = rest.indexOf(':/');
    const socketPart = split === -1 ? rest : rest.slice(0, split);
    const basePart = split === -1 ? DEFAULT_UNIX_BASE : rest.slice(split + 1);
    if (!socketPart) throw new AppError('bad_request', `no socket path in "${spec}"; use unix:/path/to.sock[:/base]`);
    return { kind: 'unix', socketPath: path.resolve(socketPart), basePath: normalizeBase(basePart) };
  }
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new AppError('bad_request', `invalid URL "${spec}"; use http://host:port/v1 or unix:/path/to.sock[:/base]`);
  }
  if (url.protocol !== 'http:') {
    throw new AppError('unsupported', `only http:// and unix: endpoints are supported, got "${url.protocol}"`);
  }
  const basePath = url.pathname === '/' || url.pathname === '' ? DEFAULT_HTTP_BASE : normalizeBase(url.pathname);
  // URL keeps IPv6 hosts in brackets; node:http wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { kind: 'tcp', host, port: url.port ? Number(url.port) : 80, basePath };
}

/** The endpoint written back in the syntax parseEndpoint accepts, for reports. */
export function formatEndpoint(endpoint: Endpoint): string {
  if (endpoint.kind === 'unix') return `unix:${endpoint.socketPath}:${endpoint.basePath}`;
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `http://${host}:${endpoint.port}${endpoint.basePath}`;
}
