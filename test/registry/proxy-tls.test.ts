/**
 * An https registry through a proxy: requests go through CONNECT tunnels (tinyproxy on
 * loopback) with TLS end to end, on both of the transport's paths (node:https for API calls,
 * the lean reader for blob bodies). The certificate is still checked against the registry's
 * own name, the proxy's credentials reach the proxy only, and a proxy that wants credentials
 * says so. The requests run in a child process, because the way to trust a test certificate
 * without a code path that weakens verification is NODE_EXTRA_CA_CERTS, which Node reads at start.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTinyproxy, type TestProxy } from '../support/tinyproxy.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SMALL = Buffer.from('{"schemaVersion":2}');
const BIG = randomBytes(3 * 1024 * 1024 + 17);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** GETs /small with send() and /big with sendLean() through the proxy in argv[2]; prints one JSON line. */
const FETCH = `
import { createHash } from 'node:crypto';
import { HttpTransport } from './src/registry/http.ts';
const [base, proxy] = process.argv.slice(1);
const transport = new HttpTransport({ proxy: { httpsProxy: proxy, proxyLoopback: true } });
try {
  const small = await transport.send({ method: 'GET', url: new URL('/small', base) });
  const chunks = [];
  for await (const c of small) chunks.push(c);
  const big = await transport.sendLean({ method: 'GET', url: new URL('/big', base) });
  const hash = createHash('sha256');
  let bytes = 0;
  await big.pump((view) => { bytes += view.length; hash.update(view); });
  console.log(JSON.stringify({ small: [small.statusCode, Buffer.concat(chunks).toString()], big: [big.statusCode, bytes, hash.digest('hex')] }));
} finally {
  transport.close();
}
`;

describe('an https registry through a proxy', () => {
  let dir: string;
  let server: https.Server;
  let base: string;
  let proxy: TestProxy;
  let guarded: TestProxy;
  const seenHeaders: IncomingHttpHeaders[] = [];

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-proxy-tls-'));
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost']);
    server = https.createServer({ key: await fs.readFile(key), cert: await fs.readFile(cert) }, (req, res) => {
      seenHeaders.push(req.headers);
      const body = req.url === '/big' ? BIG : SMALL;
      res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `https://localhost:${(server.address() as AddressInfo).port}`;
    [proxy, guarded] = await Promise.all([startTinyproxy(), startTinyproxy({ credentials: { username: 'puller', password: 'tunnel-secret' } })]);
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await Promise.all([proxy?.stop(), guarded?.stop()]);
    await fs.rm(dir, { recursive: true, force: true });
  });

  const fetchInChild = (proxyUrl: string, trust: boolean) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    if (trust) env.NODE_EXTRA_CA_CERTS = path.join(dir, 'cert.pem');
    return run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', FETCH, base, proxyUrl], { cwd: ROOT, env });
  };
  const expected = () => ({ small: [200, SMALL.toString()], big: [200, BIG.length, sha(BIG)] });

  test('both request paths reach the registry through CONNECT tunnels, and the bodies arrive whole', async () => {
    proxy.resetRequests();
    seenHeaders.length = 0;
    const { stdout } = await fetchInChild(proxy.url, true);
    assert.deepEqual(JSON.parse(stdout.trim()), expected());
    const authority = new URL(base).host;
    assert.deepEqual(proxy.requests(), [`CONNECT ${authority} HTTP/1.1`, `CONNECT ${authority} HTTP/1.1`]);
    assert.equal(seenHeaders.length, 2);
  });

  test('the registry certificate is still checked through the tunnel', async () => {
    await assert.rejects(fetchInChild(proxy.url, false), (err: Error & { stderr?: string }) => {
      assert.match(err.stderr ?? '', /self.signed certificate|unable to verify/i);
      return true;
    });
  });

  test('a proxy that requires credentials gets them with CONNECT, and they never reach the registry', async () => {
    await assert.rejects(fetchInChild(guarded.url, true), (err: Error & { stderr?: string }) => {
      assert.match(err.stderr ?? '', new RegExp(`proxy 127\\.0\\.0\\.1:${guarded.port} refused to open a tunnel to localhost:\\d+ \\(HTTP 407[^)]*\\): it requires credentials`));
      return true;
    });
    seenHeaders.length = 0;
    const { stdout } = await fetchInChild(`http://puller:tunnel-secret@127.0.0.1:${guarded.port}`, true);
    assert.deepEqual(JSON.parse(stdout.trim()), expected());
    assert.equal(seenHeaders.length, 2);
    for (const headers of seenHeaders) assert.equal(headers['proxy-authorization'], undefined);
  });
});
