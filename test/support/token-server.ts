/**
 * A distribution-spec token server for tests: anonymous callers get pull access, the user
 * testuser/testpass may also push, and tokens are RS256 JWTs whose x5c header carries a
 * self-signed certificate that the registry trusts through its rootcertbundle.
 */
import { createSign, randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

export const TOKEN_ISSUER = 'local-token-issuer';
export const TOKEN_SERVICE = 'local-registry';

export interface TokenServerStats {
  /** Token requests served (including refused ones). */
  requests: number;
  /** Every `scope` parameter received, in order. */
  scopes: string[];
  /** Requests refused for bad credentials. */
  refused: number;
}

export interface TokenServer {
  /** "http://127.0.0.1:PORT/token". */
  realm: string;
  /** PEM of the signing certificate, for the registry's rootcertbundle. */
  certPath: string;
  /** Lifetime written into answers (`expires_in`), seconds. */
  expiresInSeconds: number;
  /**
   * How many of the next tokens are issued already expired by the registry's clock (an hour
   * ago) while their answer still claims `expiresInSeconds`: a token the registry refuses
   * although the client holds it for valid. Each issue counts one down.
   */
  expireNext: number;
  stats(): TokenServerStats;
  resetStats(): void;
  close(): Promise<void>;
}

export interface TokenServerOptions {
  /** Accepted user. Defaults to "testuser". */
  username?: string;
  /** Accepted password. Defaults to "testpass". */
  password?: string;
}

const base64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** Makes a key pair and a self-signed certificate with openssl in `dir`. */
async function makeCertificate(dir: string): Promise<{ keyPem: string; certPath: string; certDer: string }> {
  const keyPath = path.join(dir, 'token-key.pem');
  const certPath = path.join(dir, 'token-cert.pem');
  await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', `/CN=${TOKEN_ISSUER}`]);
  const certPem = await fs.readFile(certPath, 'utf8');
  const certDer = certPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return { keyPem: await fs.readFile(keyPath, 'utf8'), certPath, certDer };
}

export async function startTokenServer(dir: string, options: TokenServerOptions = {}): Promise<TokenServer> {
  const username = options.username ?? 'testuser';
  const password = options.password ?? 'testpass';
  const { keyPem, certPath, certDer } = await makeCertificate(dir);
  const stats: TokenServerStats = { requests: 0, scopes: [], refused: 0 };

  const sign = (claims: Record<string, unknown>): string => {
    const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [certDer] }));
    const payload = base64url(JSON.stringify(claims));
    const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(keyPem);
    return `${header}.${payload}.${base64url(signature)}`;
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://token');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    stats.requests++;
    const scopes = url.searchParams.getAll('scope');
    stats.scopes.push(...scopes);
    let account = '';
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const [scheme, value] = auth.split(' ');
      const decoded = scheme?.toLowerCase() === 'basic' ? Buffer.from(value ?? '', 'base64').toString('utf8') : '';
      if (decoded !== `${username}:${password}`) {
        stats.refused++;
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] }));
        return;
      }
      account = username;
    }
    const access = scopes.flatMap((scope) => {
      const match = /^repository:([^:]+):(.+)$/.exec(scope);
      if (!match) return [];
      const wanted = match[2]!.split(',');
      const actions = wanted.filter((a) => a === 'pull' || (a === 'push' && account !== ''));
      return [{ type: 'repository', name: match[1], actions }];
    });
    // Beyond the registry's leeway for clock skew (60 s) either way.
    const issuedAt = Math.floor(Date.now() / 1000) - (tokenServer.expireNext > 0 ? 3600 : 0);
    if (tokenServer.expireNext > 0) tokenServer.expireNext--;
    const token = sign({ iss: TOKEN_ISSUER, sub: account, aud: url.searchParams.get('service') ?? TOKEN_SERVICE, exp: issuedAt + tokenServer.expiresInSeconds, nbf: issuedAt - 10, iat: issuedAt, jti: randomUUID(), access });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: tokenServer.expiresInSeconds, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  const tokenServer: TokenServer = {
    realm: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    certPath,
    expiresInSeconds: 300,
    expireNext: 0,
    stats: () => ({ ...stats, scopes: [...stats.scopes] }),
    resetStats: () => Object.assign(stats, { requests: 0, scopes: [], refused: 0 }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return tokenServer;
}
