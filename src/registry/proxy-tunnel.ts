/**
 * HTTP CONNECT tunnels through a proxy, for https registries: the proxy sees only the host
 * and port asked for, and TLS runs end to end over the tunnel, so the registry's certificate
 * is checked against its own name (SNI included) exactly as on a direct connection.
 *
 * Hand-written rather than taken from a library: no proxy agent is among this project's
 * dependencies, and the lean blob reader (lean-get.ts) needs the bare tunnelled socket to
 * start its own TLS on, with its reused read buffer, which an http.Agent-only package does
 * not hand out. The handshake is one request and one response head.
 */
import type { RequestOptions } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { ProxyEndpoint } from './proxy-rules.js';

/** A CONNECT answer head longer than this is refused. */
const MAX_CONNECT_HEAD_BYTES = 16 * 1024;

export interface TunnelOptions {
  signal?: AbortSignal;
  /** Milliseconds the proxy may take to connect and answer. */
  timeoutMs: number;
}

function tunnelError(message: string, code: string, status?: number): Error {
  return Object.assign(new Error(message), { code, ...(status === undefined ? {} : { status }) });
}

/** The CONNECT request; the target comes from a URL, but a CR or LF must never split it. */
function connectHead(proxy: ProxyEndpoint, authority: string): string {
  if (/[\r\n\s]/.test(authority)) throw tunnelError(`cannot tunnel to ${JSON.stringify(authority)}`, 'ERR_INVALID_URL');
  const lines = [`CONNECT ${authority} HTTP/1.1`, `host: ${authority}`];
  if (proxy.authorization) lines.push(`proxy-authorization: ${proxy.authorization}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** What a refused CONNECT means, in words that say what to change. */
function refusal(proxy: ProxyEndpoint, authority: string, status: number, reason: string): Error {
  const hint =
    status === 407
      ? proxy.authorization
        ? ': it refused the credentials in the proxy URL'
        : ': it requires credentials; put them in the proxy URL (http://user:password@host:port)'
      : '';
  return tunnelError(`proxy ${proxy.display} refused to open a tunnel to ${authority} (HTTP ${status}${reason ? ` ${reason}` : ''})${hint}`, status === 407 ? 'EPROXYAUTH' : 'EPROXYREFUSED', status);
}

/** Opens a TCP connection to `host:port` through `proxy`; resolves with the socket once the proxy answers 200. */
export function openTunnel(proxy: ProxyEndpoint, host: string, port: number, options: TunnelOptions): Promise<net.Socket> {
  const authority = `${net.isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect({ host: proxy.host, port: proxy.port });
    let head = Buffer.alloc(0);
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onAbort = (): void => fail(Object.assign(new Error('The operation was aborted', { cause: options.signal!.reason }), { name: 'AbortError', code: 'ABORT_ERR' }));
    const onError = (err: NodeJS.ErrnoException): void => fail(tunnelError(`cannot reach proxy ${proxy.display}: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' '), err.code ?? 'ECONNRESET'));
    const onClose = (): void => fail(tunnelError(`proxy ${proxy.display} closed the connection before opening a tunnel to ${authority}`, 'ECONNRESET'));
    const onTimeout = (): void => fail(tunnelError(`proxy ${proxy.display} did not open a tunnel to ${authority} within ${options.timeoutMs} ms`, 'ETIMEDOUT'));
    const onData = (data: Buffer): void => {
      head = Buffer.concat([head, data]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_CONNECT_HEAD_BYTES) fail(tunnelError(`proxy ${proxy.display} sent a CONNECT answer longer than ${MAX_CONNECT_HEAD_BYTES} bytes`, 'HPE_HEADER_OVERFLOW'));
        return;
      }
      const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
      if (!match) return fail(tunnelError(`proxy ${proxy.display} sent no HTTP answer to CONNECT: ${JSON.stringify(statusLine.slice(0, 80))}`, 'HPE_INVALID_CONSTANT'));
      const status = Number(match[1]);
      if (status !== 200) return fail(refusal(proxy, authority, status, match[2]!.trim()));
      settled = true;
      cleanup();
      socket.pause();
      // The target speaks only after the client does (TLS), so anything here came from the proxy by mistake.
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    const cleanup = (): void => {
      options.signal?.removeEventListener('abort', onAbort);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.off('timeout', onTimeout);
      socket.setTimeout(0);
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.on('timeout', onTimeout);
    socket.setTimeout(options.timeoutMs);
    socket.write(connectHead(proxy, authority));
  });
}

type CreateConnectionCallback = (err: Error | null, stream: Duplex) => void;

/**
 * An https.Agent whose connections are TLS over a CONNECT tunnel; pooled per target like a
 * direct agent's (the pool key is the target's host, port and TLS options, not the proxy's).
 * Node's Agent accepts a createConnection that answers through its callback.
 */
export class TunnelAgent extends https.Agent {
  constructor(
    private readonly proxy: ProxyEndpoint,
    private readonly tunnelTimeoutMs: number,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(options: RequestOptions, callback?: CreateConnectionCallback): undefined {
    const host = (options.host ?? 'localhost').replace(/^\[|\]$/g, '');
    const port = Number(options.port) || 443;
    openTunnel(this.proxy, host, port, { timeoutMs: this.tunnelTimeoutMs }).then(
      (socket) => {
        // host and servername stay in the options: TLS checks the certificate against them.
        const secure = tls.connect({ ...(options as tls.ConnectionOptions), socket });
        callback?.(null, secure);
      },
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }
}
