/**
 * Where the CLI finds the server: a Unix socket (the default, like Docker Model Runner's
 * model-runner.sock) or a loopback/remote base URL when the server also listens on TCP.
 */
import path from 'node:path';
import { AppError } from '../../errors.js';

export const DEFAULT_CLIENT_SOCKET = 'model-runner.sock';

/** A URL target may carry the API key the server's TCP listener asks for (MODEL_RUNNER_API_KEY). */
export type Target = { kind: 'socket'; socketPath: string } | { kind: 'url'; url: URL; apiKey?: string };

export interface TargetFlags {
  /** `--socket PATH`. */
  socket?: string;
  /** `--url http://host:port`. */
  url?: string;
}

/**
 * Flags win over the environment, and a URL wins over a socket at the same level:
 * --url, --socket, MODEL_RUNNER_HOST_URL, MODEL_RUNNER_SOCK, then ./model-runner.sock.
 * (MODEL_RUNNER_HOST is the server's bind address, so the client uses a different name.)
 * A URL target sends MODEL_RUNNER_API_KEY, when set, as the server's TCP listener expects; the
 * socket needs none.
 */
export function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): Target {
  const apiKey = env.MODEL_RUNNER_API_KEY?.trim() || undefined;
  if (flags.url) return urlTarget(flags.url, '--url', apiKey);
  if (flags.socket) return { kind: 'socket', socketPath: path.resolve(flags.socket) };
  if (env.MODEL_RUNNER_HOST_URL) return urlTarget(env.MODEL_RUNNER_HOST_URL, 'MODEL_RUNNER_HOST_URL', apiKey);
  return { kind: 'socket', socketPath: path.resolve(env.MODEL_RUNNER_SOCK || DEFAULT_CLIENT_SOCKET) };
}

function urlTarget(raw: string, source: string, apiKey: string | undefined): Target {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('bad_request', `${source} must be a URL such as http://127.0.0.1:12434, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:') throw new AppError('bad_request', `${source} must use http://, got ${JSON.stringify(raw)}`);
  return apiKey === undefined ? { kind: 'url', url } : { kind: 'url', url, apiKey };
}

/** A short human description for messages: the socket path or the URL. */
export function describeTarget(target: Target): string {
  return target.kind === 'socket' ? target.socketPath : target.url.origin;
}

/**
 * The message for "nothing answers there", with the command that would fix it. `stale` says a
 * socket file exists but nobody accepts on it (a server that died without removing it).
 */
export function notRunningMessage(target: Target, stale = false): string {
  if (target.kind === 'socket') {
    const where = stale ? `nothing answers on the socket at ${target.socketPath}` : `no socket at ${target.socketPath}`;
    return `model-runner is not running (${where}); start it with \`model-runner serve\``;
  }
  const port = target.url.port || '80';
  return `model-runner is not running (nothing listening at ${target.url.origin}); start it with \`model-runner serve --port ${port}\``;
}
