/**
 * A real forward proxy for tests: Debian's tinyproxy, on loopback, in the foreground, with its
 * log read as it runs so that a test can see which requests went through it.
 *
 *   const proxy = await startTinyproxy({ credentials: { username: 'u', password: 'p' } });
 *   after(() => proxy.stop());
 *   proxy.requests();   // ["GET http://127.0.0.1:5000/v2/ HTTP/1.1", "CONNECT localhost:8443 HTTP/1.1", ...]
 *
 * Needs `tinyproxy` on PATH (`make test-deps` installs it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface StartTinyproxyOptions {
  /** Require these credentials (tinyproxy's BasicAuth). Defaults to none. */
  credentials?: { username: string; password: string };
}

export interface TestProxy {
  /** "http://127.0.0.1:PORT" (without credentials). */
  url: string;
  port: number;
  /** Request lines the proxy received so far ("GET http://... HTTP/1.1", "CONNECT host:port HTTP/1.1"). */
  requests(): string[];
  /** Forgets the requests seen so far. */
  resetRequests(): void;
  /**
   * Resolves once a request line matching `test` is in the log. The log is written in order, so
   * once a later request is seen, every earlier one is too: send a marker request through the
   * proxy and wait for it before asserting that something did not go through.
   */
  seen(test: (line: string) => boolean): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startTinyproxy(options: StartTinyproxyOptions = {}): Promise<TestProxy> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-tinyproxy-'));
  const port = await freePort();
  const lines = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 60',
    'LogLevel Info',
    'MaxClients 200',
    'Allow 127.0.0.1',
    'DisableViaHeader Yes',
    // No ConnectPort line: CONNECT may reach any port (test registries use random ones).
  ];
  if (options.credentials) lines.push(`BasicAuth ${options.credentials.username} ${options.credentials.password}`);
  const configPath = path.join(dir, 'tinyproxy.conf');
  await fs.writeFile(configPath, `${lines.join('\n')}\n`);

  const child: ChildProcess = spawn('tinyproxy', ['-d', '-c', configPath], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let requests: string[] = [];
  const waiters = new Set<{ test: (line: string) => boolean; resolve: () => void }>();
  const output: string[] = [];
  let pending = '';
  let onReady: (() => void) | undefined;
  child.stdout!.on('data', (data: Buffer) => {
    pending += data.toString('utf8');
    const complete = pending.split('\n');
    pending = complete.pop()!;
    for (const line of complete) {
      output.push(line);
      if (output.length > 50) output.shift();
      const request = /Request \(file descriptor \d+\): (.*)$/.exec(line);
      if (request) {
        const seen = request[1]!.trim();
        requests.push(seen);
        for (const waiter of waiters) {
          if (waiter.test(seen)) {
            waiters.delete(waiter);
            waiter.resolve();
          }
        }
      }
      if (line.includes('Accepting connections')) onReady?.();
    }
  });
  child.stderr!.on('data', (data: Buffer) => output.push(data.toString('utf8')));

  const stop = async (): Promise<void> => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      await exited;
    }
    await fs.rm(dir, { recursive: true, force: true });
  };

  try {
    // Ready when it says so in its log; an exit or a spawn failure ends the wait.
    await new Promise<void>((resolve, reject) => {
      onReady = resolve;
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`tinyproxy exited with ${code}: ${output.join('\n')}`)));
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: () => [...requests],
    resetRequests: () => {
      requests = [];
    },
    seen: (test) =>
      requests.some(test)
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            waiters.add({ test, resolve });
          }),
    stop,
  };
}
