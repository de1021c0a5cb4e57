/**
 * The lean GET over TLS, as a CDN serves blobs: the body arrives whole through the reused read
 * buffer, and a certificate the system does not trust is refused. The fetch runs in a child
 * process, because the way to trust a test certificate without a code path that weakens
 * verification is NODE_EXTRA_CA_CERTS, which Node reads at start.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BODY = randomBytes(5 * 1024 * 1024 + 3);

/**
 * Fetches URL with leanGet in a child process and prints "<status> <bytes> <sha256>"; with a
 * second argument "ring", reads into a hash ring's shared slots and adds how many reads landed there.
 */
const FETCH = `
import { createHash } from 'node:crypto';
import { leanGet } from './src/registry/lean-get.ts';
import { ReadRing } from './src/registry/read-ring.ts';
const response = await leanGet(new URL(process.argv[1]), { idleTimeoutMs: 10000 });
const hash = createHash('sha256');
let bytes = 0;
let shared = 0;
const reads = process.argv[2] === 'ring' ? new ReadRing().reader() : undefined;
await response.pump((view) => { bytes += view.length; hash.update(view); if (view.buffer instanceof SharedArrayBuffer) shared++; }, reads);
console.log(response.statusCode, bytes, hash.digest('hex'), ...(reads ? [shared > 0 ? 'slots' : 'no-slots'] : []));
`;

describe('the lean GET over TLS', () => {
  let dir: string;
  let server: https.Server;
  let url: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lean-tls-'));
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
    server = https.createServer({ key: await fs.readFile(key), cert: await fs.readFile(cert) }, (_req, res) => {
      res.writeHead(200, { 'content-length': BODY.length, 'content-type': 'application/octet-stream' }).end(BODY);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `https://localhost:${(server.address() as AddressInfo).port}/blob`;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await fs.rm(dir, { recursive: true, force: true });
  });

  const fetchInChild = (extraCa: string | undefined, ...extra: string[]) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    if (extraCa) env.NODE_EXTRA_CA_CERTS = extraCa;
    return run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', FETCH, url, ...extra], { cwd: ROOT, env });
  };

  test('a body served over TLS by a trusted certificate arrives whole and unchanged', async () => {
    const { stdout } = await fetchInChild(path.join(dir, 'cert.pem'));
    assert.equal(stdout.trim(), `200 ${BODY.length} ${createHash('sha256').update(BODY).digest('hex')}`);
  });

  test("read into the hash worker's shared slots, a TLS body arrives whole and unchanged, in the slots", async () => {
    const { stdout } = await fetchInChild(path.join(dir, 'cert.pem'), 'ring');
    assert.equal(stdout.trim(), `200 ${BODY.length} ${createHash('sha256').update(BODY).digest('hex')} slots`);
  });

  test('a certificate the system does not trust is refused', async () => {
    await assert.rejects(fetchInChild(undefined), (err: Error & { stderr?: string }) => {
      assert.match(err.stderr ?? '', /self.signed certificate|unable to verify/i);
      return true;
    });
  });
});
