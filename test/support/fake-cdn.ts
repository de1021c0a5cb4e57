/**
 * A stand-in for Docker Hub's blob CDN: serves a registry's storage directory over HTTP on
 * 127.0.0.2 with Range support, and answers 400 to any request that carries an
 * Authorization header (S3/Cloudflare refuse a second credential next to a signed URL).
 * Tests steer it at run time through `failAfterBytes`, `throttleBytesPerSecond` and
 * `holdAfterBytes` (a pause that lasts until the test calls releaseHeld()).
 */
import { createReadStream, promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface FakeCdnStats {
  requests: number;
  /** Requests refused because they carried Authorization. */
  rejectedAuth: number;
  /** Requests that carried a Range header. */
  ranges: number;
  /** Body bytes sent. */
  bytes: number;
}

export interface FakeCdn {
  /** "http://127.0.0.2:PORT". */
  baseUrl: string;
  /** Cut every GET body after this many bytes (the socket is destroyed). Undefined: never. */
  failAfterBytes: number | undefined;
  /** Pace each response to about this many bytes per second. Undefined: full speed. */
  throttleBytesPerSecond: number | undefined;
  /** Pause every GET body after this many bytes until releaseHeld() is called. Undefined: never. */
  holdAfterBytes: number | undefined;
  /** Lets the bodies paused by holdAfterBytes go on (and clears holdAfterBytes). */
  releaseHeld(): void;
  stats(): FakeCdnStats;
  resetStats(): void;
  close(): Promise<void>;
}

function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined | 'invalid' {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return 'invalid';
  if (match[1] === '') {
    const suffix = Number(match[2]);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return 'invalid';
  return { start, end };
}

/** Starts the CDN serving files below `root` (the registry's rootdirectory). */
export async function startFakeCdn(root: string, host = '127.0.0.2'): Promise<FakeCdn> {
  const stats: FakeCdnStats = { requests: 0, rejectedAuth: 0, ranges: 0, bytes: 0 };
  let release!: () => void;
  let held = new Promise<void>((resolve) => (release = resolve));
  const cdn: FakeCdn = {
    baseUrl: '',
    failAfterBytes: undefined,
    throttleBytesPerSecond: undefined,
    holdAfterBytes: undefined,
    releaseHeld: () => {
      cdn.holdAfterBytes = undefined;
      release();
      held = new Promise((resolve) => (release = resolve));
    },
    stats: () => ({ ...stats }),
    resetStats: () => Object.assign(stats, { requests: 0, rejectedAuth: 0, ranges: 0, bytes: 0 }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server = http.createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    stats.requests++;
    if (req.headers.authorization !== undefined) {
      stats.rejectedAuth++;
      res.writeHead(400, { 'content-type': 'application/xml' }).end('<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://cdn').pathname);
    const file = path.resolve(root, `.${urlPath}`);
    if (!file.startsWith(path.resolve(root) + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    let size: number;
    try {
      const stat = await fs.stat(file);
      if (!stat.isFile()) throw new Error('not a file');
      size = stat.size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    if (req.headers.range !== undefined) stats.ranges++;
    const range = parseRange(req.headers.range, size);
    if (range === 'invalid') {
      res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      return;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    const headers: http.OutgoingHttpHeaders = { 'accept-ranges': 'bytes', 'content-length': end - start + 1, 'content-type': 'application/octet-stream' };
    if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    await send(res, file, start, end);
  }

  async function send(res: http.ServerResponse, file: string, start: number, end: number): Promise<void> {
    const failAfter = cdn.failAfterBytes;
    const rate = cdn.throttleBytesPerSecond;
    let holdAfter = cdn.holdAfterBytes;
    const began = Date.now();
    let sent = 0;
    const stream = createReadStream(file, { start, end, highWaterMark: rate ? Math.max(1024, Math.min(1 << 20, Math.floor(rate / 20))) : 1 << 20 });
    try {
      for await (const data of stream as AsyncIterable<Buffer>) {
        let chunk = data;
        if (holdAfter !== undefined && sent + chunk.length >= holdAfter) {
          const before = chunk.subarray(0, holdAfter - sent);
          stats.bytes += before.length;
          sent += before.length;
          if (before.length > 0 && !res.write(before)) await new Promise((resolve) => res.once('drain', resolve));
          chunk = chunk.subarray(before.length);
          holdAfter = undefined;
          await Promise.race([held, new Promise((resolve) => res.once('close', resolve))]);
          if (res.destroyed) return;
        }
        if (failAfter !== undefined && sent + chunk.length >= failAfter) chunk = chunk.subarray(0, failAfter - sent);
        if (chunk.length > 0) {
          stats.bytes += chunk.length;
          sent += chunk.length;
          if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
        }
        if (failAfter !== undefined && sent >= failAfter) {
          // Let the bytes written so far leave, then cut the connection mid-body.
          await new Promise((resolve) => setTimeout(resolve, 20));
          res.socket?.destroy();
          return;
        }
        if (rate) {
          const due = began + (sent / rate) * 1000;
          const wait = due - Date.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
      res.end();
    } finally {
      stream.destroy();
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  cdn.baseUrl = `http://${host}:${(server.address() as AddressInfo).port}`;
  return cdn;
}
