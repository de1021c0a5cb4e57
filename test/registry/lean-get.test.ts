import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { HttpTransport, isRetryable, networkError, readBody } from '../../src/registry/http.js';
import { LEAN_READ_BYTES, leanGet, LeanResponse } from '../../src/registry/lean-get.js';

const BODY = randomBytes(3 * 1024 * 1024 + 17);

/** A raw TCP server: each connection gets `answer(request head)` written, then (maybe) closed. */
async function rawServer(answer: (head: string, socket: net.Socket) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server = net.createServer((socket) => {
    let head = '';
    socket.on('data', (d) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) answer(head, socket);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function sha(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

describe('the lean GET used for blob bodies', () => {
  let server: http.Server;
  let base: string;
  let lastHeaders: http.IncomingHttpHeaders = {};

  before(async () => {
    server = http.createServer((req, res) => {
      lastHeaders = req.headers;
      if (req.url === '/chunked') {
        res.write(BODY.subarray(0, 1000));
        res.end(BODY.subarray(1000, 5000));
      } else if (req.url === '/error') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
      } else {
        res.writeHead(200, { 'content-length': BODY.length }).end(BODY);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('a Content-Length body arrives whole and in order, and the request carries our headers', async () => {
    const response = await leanGet(new URL(`${base}/blob`), { idleTimeoutMs: 5000, headers: { range: 'bytes=0-', 'user-agent': 'model-runner' } });
    assert.equal(response.statusCode, 200);
    assert.equal(response.framing, 'length');
    const hash = createHash('sha256');
    let bytes = 0;
    await response.pump((view) => {
      hash.update(view);
      bytes += view.length;
    });
    assert.equal(bytes, BODY.length);
    assert.equal(hash.digest('hex'), sha(BODY));
    assert.equal(lastHeaders.range, 'bytes=0-');
    assert.equal(lastHeaders.connection, 'close');
  });

  test('a sink that returns promises pauses the socket and loses no bytes', async () => {
    const response = await leanGet(new URL(`${base}/blob`), { idleTimeoutMs: 5000 });
    const copies: Buffer[] = [];
    let calls = 0;
    await response.pump((view) => {
      copies.push(Buffer.from(view));
      calls++;
      return calls % 2 === 0 ? new Promise((resolve) => setImmediate(resolve)) : undefined;
    });
    assert.equal(sha(Buffer.concat(copies)), sha(BODY));
  });

  test('with read buffers from a source, the body after the first read lands in them, and each is given back once delivered', async () => {
    const lent = new Set<Buffer>();
    let acquired = 0;
    const source = {
      acquire: () => {
        const buffer = Buffer.alloc(LEAN_READ_BYTES);
        lent.add(buffer);
        acquired++;
        return buffer;
      },
      release: (buffer: Buffer) => assert.ok(lent.delete(buffer), 'only a lent buffer comes back, once'),
    };
    const response = await leanGet(new URL(`${base}/blob`), { idleTimeoutMs: 5000 });
    const copies: Buffer[] = [];
    let inSource = 0;
    await response.pump((view) => {
      copies.push(Buffer.from(view));
      // Buffer.alloc of 1 MiB has an ArrayBuffer of its own, so the memory names the buffer.
      if ([...lent].some((b) => b.buffer === view.buffer)) inSource++;
    }, source);
    assert.equal(sha(Buffer.concat(copies)), sha(BODY));
    assert.ok(acquired > 0 && inSource > 0, `reads went to the source's buffers (${inSource} of ${copies.length} deliveries)`);
    assert.equal(lent.size, 0, 'every buffer came back, and none was lent after the last byte');
  });

  test('a connection cut while it holds a buffer from a source gives it back', async () => {
    const cut = await rawServer((_head, socket) => {
      socket.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n'), BODY.subarray(0, 300_000)]));
    });
    try {
      const lent = new Set<Buffer>();
      const source = {
        acquire: () => {
          const buffer = Buffer.alloc(LEAN_READ_BYTES);
          lent.add(buffer);
          return buffer;
        },
        release: (buffer: Buffer) => void lent.delete(buffer),
      };
      const response = await leanGet(new URL(`${cut.url}/blob`), { idleTimeoutMs: 5000 });
      const error = await response.pump(() => undefined, source).then(() => undefined, (err: Error) => err);
      assert.ok(error, 'the cut body fails');
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(lent.size, 0);
    } finally {
      await cut.close();
    }
  });

  test('a header value with a line break is refused before anything is sent', async () => {
    await assert.rejects(leanGet(new URL(`${base}/blob`), { idleTimeoutMs: 5000, headers: { range: 'bytes=0-\r\nx-evil: 1' } }), /line break/);
  });

  test('an error body is readable by iteration, as error handling reads it', async () => {
    const response = await leanGet(new URL(`${base}/error`), { idleTimeoutMs: 5000 });
    assert.equal(response.statusCode, 404);
    const body = await readBody(response, 1024, 'error body');
    assert.match(body.toString(), /BLOB_UNKNOWN/);
  });

  test('a chunked answer is left to node:http, which reads it whole', async () => {
    const raw = await leanGet(new URL(`${base}/chunked`), { idleTimeoutMs: 5000 });
    assert.equal(raw.framing, 'unsupported');
    raw.destroy();
    const transport = new HttpTransport();
    try {
      const response = await transport.sendLean({ method: 'GET', url: new URL(`${base}/chunked`) });
      assert.ok(!(response instanceof LeanResponse));
      const body = await readBody(response, 1 << 20, 'chunked body');
      assert.equal(sha(body), sha(BODY.subarray(0, 5000)));
    } finally {
      transport.close();
    }
  });

  test('a body cut before its Content-Length fails with an error a retry may fix', async () => {
    const cut = await rawServer((_head, socket) => {
      socket.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n'), BODY.subarray(0, 300_000)]));
    });
    try {
      const response = await leanGet(new URL(`${cut.url}/blob`), { idleTimeoutMs: 5000 });
      let got = 0;
      const error = await response.pump((view) => void (got += view.length)).then(() => undefined, (err: Error) => err);
      assert.ok(error, 'the cut body must not look complete');
      assert.equal(got, 300_000);
      assert.ok(isRetryable(networkError(error, 'the test server')));
    } finally {
      await cut.close();
    }
  });

  test('an answer that is not HTTP fails the request with an error that says so, and the process lives on', async () => {
    const other = await rawServer((_head, socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\nhello\r\n\r\nmore'));
    try {
      await assert.rejects(leanGet(new URL(`${other.url}/blob`), { idleTimeoutMs: 5000 }), /not an HTTP\/1\.1 response: "SSH-2\.0-OpenSSH_9\.2"/);
    } finally {
      await other.close();
    }
  });

  test('a small body that came with the head is delivered even after the server closed', async () => {
    let closed!: Promise<void>;
    const small = await rawServer((_head, socket) => {
      // 'finish': the server has sent everything and its FIN; the client reads the body after that.
      closed = new Promise((resolve) => socket.once('finish', () => resolve()));
      socket.end('HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\nContent-Range: bytes 10-14/15\r\n\r\nhello');
    });
    try {
      const response = await leanGet(new URL(`${small.url}/blob`), { idleTimeoutMs: 5000 });
      await closed;
      const parts: Buffer[] = [];
      await response.pump((view) => void parts.push(Buffer.from(view)));
      assert.equal(response.headers['content-range'], 'bytes 10-14/15');
      assert.equal(Buffer.concat(parts).toString(), 'hello');
    } finally {
      await small.close();
    }
  });

  test('a body without Content-Length is read until the server closes the connection', async () => {
    const closing = await rawServer((_head, socket) => socket.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), BODY])));
    try {
      const response = await leanGet(new URL(`${closing.url}/blob`), { idleTimeoutMs: 5000 });
      assert.equal(response.framing, 'close');
      const hash = createHash('sha256');
      await response.pump((view) => void hash.update(view));
      assert.equal(hash.digest('hex'), sha(BODY));
    } finally {
      await closing.close();
    }
  });

  test('aborting the signal while the body streams fails the read', async () => {
    const slow = await rawServer((_head, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc'));
    const controller = new AbortController();
    try {
      const response = await leanGet(new URL(`${slow.url}/blob`), { idleTimeoutMs: 5000, signal: controller.signal });
      const reading = response.pump(() => controller.abort());
      await assert.rejects(reading, { name: 'AbortError' });
    } finally {
      await slow.close();
    }
  });
});
