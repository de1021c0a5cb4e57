/**
 * HTTP as the tests speak it to the server, over its Unix socket or a TCP address: one complete
 * request, a request whose body the caller reads, and readers for the streamed bodies (SSE, NDJSON).
 * No agent: each request has its own socket.
 */
import http from 'node:http';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json<T = any>(): T;
}

export interface RequestOptions {
  /** Defaults to GET, or POST when there is a body. */
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  /** A Buffer or string is sent as is; anything else as JSON (with a JSON content type). */
  body?: unknown;
}

/**
 * The payload and headers of a request. A body gets a Content-Length unless the caller set one:
 * Node sends a DELETE's body without one (nor chunked), which no server can read, while the
 * clients the server answers (Go's, curl) always send it.
 */
function encodeBody(options: RequestOptions): { payload: Buffer | string | undefined; headers: http.OutgoingHttpHeaders } {
  const { body } = options;
  if (body === undefined) return { payload: undefined, headers: { ...options.headers } };
  const json = typeof body !== 'string' && !Buffer.isBuffer(body);
  const payload = json ? JSON.stringify(body) : (body as string | Buffer);
  const headers: http.OutgoingHttpHeaders = { ...(json ? { 'content-type': 'application/json' } : {}), ...options.headers };
  const named = Object.keys(headers).map((k) => k.toLowerCase());
  if (!named.includes('content-length') && !named.includes('transfer-encoding')) headers['content-length'] = Buffer.byteLength(payload);
  return { payload, headers };
}

/**
 * Starts a request (on a Unix socket path or a TCP address) and resolves with the response head,
 * leaving the body to the caller (SSE and NDJSON readers, or a test that cuts the connection). No
 * agent: each request has its own socket.
 */
export function openRequest(target: string | TcpTarget, urlPath: string, options: RequestOptions = {}): Promise<{ req: http.ClientRequest; res: http.IncomingMessage }> {
  const { payload, headers } = encodeBody(options);
  const where = typeof target === 'string' ? { socketPath: target } : target;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { ...where, path: urlPath, method: options.method ?? (payload === undefined ? 'GET' : 'POST'), headers, agent: false },
      (res) => resolve({ req, res }),
    );
    req.once('error', reject);
    req.end(payload);
  });
}

/** A TCP address, for servers started with --port. */
export interface TcpTarget {
  host: string;
  port: number;
}

/** One complete request (on a Unix socket path or a TCP address): status, headers and the whole body. */
export async function request(target: string | TcpTarget, urlPath: string, options: RequestOptions = {}): Promise<Reply> {
  const { res } = await openRequest(target, urlPath, options);
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const text = body.toString('utf8');
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    body,
    text,
    json: () => {
      try {
        return JSON.parse(text);
      } catch {
        throw new Error(`expected JSON, got ${res.statusCode}: ${text.slice(0, 500)}`);
      }
    },
  };
}

/** The `data:` payloads of a server-sent-events stream, yielded as they arrive. */
export async function* sseData(stream: AsyncIterable<Buffer | string> | Iterable<Buffer | string>): AsyncGenerator<string> {
  let buffer = '';
  for await (const chunk of stream) {
    buffer += chunk.toString();
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice('data:'.length).replace(/^ /, ''));
      if (data.length > 0) yield data.join('\n');
    }
  }
}

/** All `data:` payloads of a complete SSE body. */
export async function parseSse(text: string): Promise<string[]> {
  const frames: string[] = [];
  for await (const data of sseData([text])) frames.push(data);
  return frames;
}

/** Go's html.EscapeString, undone: Docker escapes progress lines unless the client asked for exactly application/json. */
function unescapeGoHtml(text: string): string {
  return text.replace(/&#34;|&#39;|&lt;|&gt;|&amp;/g, (entity) => ({ '&#34;': '"', '&#39;': "'", '&lt;': '<', '&gt;': '>', '&amp;': '&' })[entity]!);
}

/**
 * The objects of a complete NDJSON body, one per non-empty line. A text/plain reply (what curl
 * gets, having sent no Accept header) carries HTML-escaped lines, as Docker's does.
 */
export function parseNdjson<T = any>(reply: Pick<Reply, 'text' | 'headers'>): T[] {
  const escaped = String(reply.headers['content-type'] ?? '').startsWith('text/plain');
  return reply.text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(escaped ? unescapeGoHtml(line) : line) as T);
}
