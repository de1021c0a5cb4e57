/**
 * A stand-in for Docker Hub's blob CDN: serves a registry's storage directory over HTTP on
 * 127.0.0.2 with Range support, and answers 400 to any request that carries an
 * Authorization header (S3/Cloudflare refuse a second credential next to a signed URL).
 * Tests steer it at run time: `failAfterBytes` cuts every body at a byte count, and `hold()`
 * stops matching responses at a byte count until the test lets them go, so that a test acts
 * while a download is known to be in flight rather than racing a slow one. The pull benchmark
 * caps each connection with `throttleBytesPerSecond`, as a real CDN does; tests never rely on
 * it, since a pace says nothing about what the puller has done by when.
 *
 *   const hold = cdn.hold({ afterBytes: 1 << 20 });
 *   ... start a pull ...
 *   await hold.reached();   // 1 MiB of the body is on its way; the rest waits
 *   ... kill the puller, cancel it, look at the partial file ...
 *   hold.release();
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
  /** Every GET and HEAD in order: the path asked for and its Range header. */
  requested: Array<{ path: string; range?: string }>;
  /** Most bodies being sent at the same moment. */
  peakConcurrent: number;
}

export interface HoldOptions {
  /** Body bytes a held response sends before it stops. Defaults to 0 (only the head). */
  afterBytes?: number;
  /** Which requests are held. Defaults to every GET. */
  match?: (request: { path: string; range?: string }) => boolean;
}

export interface CdnHold {
  /** Responses stopped so far. */
  readonly held: number;
  /** Resolves once `count` responses (default 1) have stopped, each after handing its first `afterBytes` to the socket. */
  reached(count?: number): Promise<void>;
  /** Lets the held responses go on and holds no more. A response whose client went away ends instead. */
  release(): void;
  /** Holds no more responses; the held ones stay stopped until their client goes away (or release()). */
  stop(): void;
}

export interface FakeCdn {
  /** "http://127.0.0.2:PORT". */
  baseUrl: string;
  /** Cut every GET body after this many bytes (the socket is destroyed). Undefined: never. */
  failAfterBytes: number | undefined;
  /** Pace each response to about this many bytes per second (the benchmark's per-connection cap). Undefined: full speed. */
  throttleBytesPerSecond: number | undefined;
  /** Stops matching responses until released (replacing any hold before it). */
  hold(options?: HoldOptions): CdnHold;
  stats(): FakeCdnStats;
  resetStats(): void;
  /** Resolves once no body is being sent (a cancelled client's responses have wound down). */
  whenIdle(): Promise<void>;
  close(): Promise<void>;
}

/** The byte range a Range header asks of `size` bytes (inclusive end), none, or 'invalid' (answer 416). */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined | 'invalid' {
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

/** One hold: counts the responses it stopped and wakes them (or their waiting tests). */
class Hold implements CdnHold {
  held = 0;
  active = true;
  private released = false;
  private readonly wakers = new Set<() => void>();
  private readonly watchers: Array<{ count: number; resolve: () => void }> = [];

  constructor(
    readonly afterBytes: number,
    private readonly match: (request: { path: string; range?: string }) => boolean,
  ) {}

  matches(request: { path: string; range?: string }): boolean {
    return this.active && this.match(request);
  }

  /** Stops one response; resolves 'go' on release, 'gone' when its connection closes first. */
  stopHere(res: http.ServerResponse): Promise<'go' | 'gone'> {
    this.held++;
    for (const w of this.watchers.filter((w) => w.count <= this.held)) w.resolve();
    if (this.released) return Promise.resolve('go');
    return new Promise((resolve) => {
      const go = (): void => resolve('go');
      this.wakers.add(go);
      res.once('close', () => {
        this.wakers.delete(go);
        resolve('gone');
      });
    });
  }

  reached(count = 1): Promise<void> {
    if (this.held >= count) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ count, resolve }));
  }

  release(): void {
    this.active = false;
    this.released = true;
    for (const wake of this.wakers) wake();
    this.wakers.clear();
  }

  stop(): void {
    this.active = false;
  }
}

/**
 * Writes `bytes`; false when the connection is gone. `flushed` waits until they were handed to
 * the socket (before a stop or a cut); otherwise only the usual backpressure is waited for.
 */
function writeOut(res: http.ServerResponse, bytes: Buffer, flushed: boolean): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (flushed) return new Promise((resolve) => res.write(bytes, (err) => resolve(!err)));
  if (res.write(bytes)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => (): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/** Starts the CDN serving files below `root` (the registry's rootdirectory). */
export async function startFakeCdn(root: string, host = '127.0.0.2'): Promise<FakeCdn> {
  const stats: FakeCdnStats = { requests: 0, rejectedAuth: 0, ranges: 0, bytes: 0, requested: [], peakConcurrent: 0 };
  let current: Hold | undefined;
  let sending = 0;
  let idleWaiters: Array<() => void> = [];
  const cdn: FakeCdn = {
    baseUrl: '',
    failAfterBytes: undefined,
    throttleBytesPerSecond: undefined,
    hold: (options = {}) => {
      current?.stop();
      current = new Hold(options.afterBytes ?? 0, options.match ?? (() => true));
      return current;
    },
    stats: () => ({ ...stats, requested: [...stats.requested] }),
    resetStats: () => Object.assign(stats, { requests: 0, rejectedAuth: 0, ranges: 0, bytes: 0, requested: [], peakConcurrent: 0 }),
    whenIdle: () => (sending === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))),
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
    const asked = { path: urlPath, ...(req.headers.range === undefined ? {} : { range: req.headers.range }) };
    stats.requested.push(asked);
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
    const hold = current?.matches(asked) ? current : undefined;
    await send(res, file, start, end, hold);
  }

  async function send(res: http.ServerResponse, file: string, start: number, end: number, hold: Hold | undefined): Promise<void> {
    const failAfter = cdn.failAfterBytes;
    const rate = cdn.throttleBytesPerSecond;
    const began = Date.now();
    let stopAt = hold?.afterBytes;
    let sent = 0;
    /** Sends bytes, counting them; false once the client is gone. */
    const deliver = async (bytes: Buffer, flushed = false): Promise<boolean> => {
      if (bytes.length === 0) return flushed ? writeOut(res, bytes, true) : true;
      stats.bytes += bytes.length;
      sent += bytes.length;
      return writeOut(res, bytes, flushed);
    };
    const stream = createReadStream(file, { start, end, highWaterMark: rate ? Math.max(1024, Math.min(1 << 20, Math.floor(rate / 20))) : 1 << 20 });
    stats.peakConcurrent = Math.max(stats.peakConcurrent, ++sending);
    try {
      if (stopAt === 0) {
        res.flushHeaders();
        stopAt = undefined;
        if ((await hold!.stopHere(res)) === 'gone') return;
      }
      for await (const data of stream as AsyncIterable<Buffer>) {
        let chunk = data;
        if (stopAt !== undefined && sent + chunk.length >= stopAt) {
          const before = stopAt - sent;
          stopAt = undefined;
          if (!(await deliver(chunk.subarray(0, before), true))) return;
          if ((await hold!.stopHere(res)) === 'gone' || res.destroyed) return;
          chunk = chunk.subarray(before);
        }
        if (failAfter !== undefined && sent + chunk.length >= failAfter) {
          // The bytes up to the cut leave first (the write callback says they reached the socket).
          await deliver(chunk.subarray(0, failAfter - sent), true);
          res.socket?.destroy();
          return;
        }
        if (!(await deliver(chunk))) return;
        if (rate) {
          const wait = began + (sent / rate) * 1000 - Date.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
      res.end();
    } finally {
      stream.destroy();
      if (--sending === 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const wake of waiters) wake();
      }
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  cdn.baseUrl = `http://${host}:${(server.address() as AddressInfo).port}`;
  return cdn;
}
