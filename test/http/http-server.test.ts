/**
 * The servers the API listens through. Node's default requestTimeout (300 s) would cut any
 * request still receiving its body after five minutes: a model upload of several gigabytes over a
 * slow link. The test cannot wait five minutes; it sends a real upload in pieces, each only once
 * the server has taken the one before, and checks the setting that governs the cut on that server.
 */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createHttpServer, HEADERS_TIMEOUT_MS } from '../../src/http/common/http-server.js';

describe('the HTTP server', () => {
  let dir: string;
  let socketPath: string;
  let server: http.Server;
  /** Fires 'piece' with the byte count each time the upload handler receives data. */
  const received = new EventEmitter();

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-server-'));
    socketPath = path.join(dir, 's.sock');
    server = createHttpServer((req, res) => {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        received.emit('piece', bytes);
      });
      req.on('end', () => res.end(String(bytes)));
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('an upload sent piece by piece is received whole, on a server that puts no time limit on a request', async () => {
    const PIECES = 8;
    const PIECE = Buffer.alloc(64 * 1024, 1);
    const req = http.request({ socketPath, path: '/upload', method: 'POST', headers: { 'Content-Length': PIECES * PIECE.length } });
    const answer = once(req, 'response');
    for (let i = 1; i <= PIECES; i++) {
      const taken = new Promise<void>((resolve) => {
        const onPiece = (bytes: number) => {
          if (bytes < i * PIECE.length) return;
          received.off('piece', onPiece);
          resolve();
        };
        received.on('piece', onPiece);
      });
      req.write(PIECE);
      await taken;
      // However long an upload takes, nothing in the server's settings ends it.
      assert.equal(server.requestTimeout, 0);
    }
    req.end();
    const [res] = (await answer) as [http.IncomingMessage];
    let body = '';
    for await (const chunk of res) body += chunk;
    assert.equal(body, String(PIECES * PIECE.length));
  });

  test('headers still have a time limit, against connections that trickle them forever', () => {
    assert.equal(server.headersTimeout, HEADERS_TIMEOUT_MS);
    assert.ok(HEADERS_TIMEOUT_MS > 0);
  });
});
