/**
 * The compiled server (dist/cli.js serve) as a real child process on a real Unix socket, for the
 * end-to-end tests. Build first (`npx tsc -p .`): the tests drive what ships, not the sources.
 *
 *   const server = await startServer({ args: ['--threads', '1'] });
 *   const reply = await server.request('/models');
 *   await server.restart();          // same store, same socket
 *   assert.equal(await server.stop(), 0);
 *
 * Every server gets its own temp directory holding the socket and, unless one is given, the store.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Reply, request, type RequestOptions } from './http-client.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_PATH = path.join(REPO_ROOT, 'dist', 'cli.js');

/** Output lines kept per server: enough to explain a failure, bounded for long runs. */
const MAX_OUTPUT_CHUNKS = 400;
/** How long a server may take to answer GET / after spawning. */
const READY_TIMEOUT_MS = 30_000;
/** How long stop() waits after SIGTERM before giving up with SIGKILL. */
const STOP_TIMEOUT_MS = 30_000;

export interface ServerOptions {
  /** Store directory. Defaults to `models/` inside the server's temp directory. */
  modelsPath?: string;
  /** Extra `serve` flags, such as ['--keep-alive', '1s']. */
  args?: string[];
  /** Extra environment variables for the server process. */
  env?: Record<string, string>;
  /** Run this executable (the single binary) instead of `node dist/cli.js`, in its own directory. Defaults to node dist/cli.js. */
  executable?: string;
  /** True: the process gets `env` alone, not this process's environment with `env` over it. Defaults to false. */
  bareEnv?: boolean;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function makeTempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Runs `command ARGS` in `cwd` with exactly `env` to completion, keeping what it printed. */
export function runToCompletion(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `node dist/cli.js ARGS` to completion (demo, generate-model, package, a second serve...). */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runToCompletion(process.execPath, [CLI_PATH, ...args], REPO_ROOT, { ...process.env, ...env });
}

/** Like runCli, but a non-zero exit is an error carrying the output. */
export async function runCliOk(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const result = await runCli(args, env);
  if (result.code !== 0) throw new Error(`model-runner ${args.join(' ')} exited with ${result.code}:\n${result.stderr}${result.stdout}`);
  return result;
}

export class ServerProcess {
  readonly dir: string;
  readonly socketPath: string;
  readonly modelsPath: string;
  private options: ServerOptions;
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  private chunks: string[] = [];
  /** The TCP port from the 'listening' line, read once at start. */
  private port: number | undefined;
  /** Called with each chunk of output as it arrives (waitForOutput's listeners). */
  private readonly outputListeners = new Set<() => void>();

  constructor(dir: string, options: ServerOptions) {
    this.dir = dir;
    this.socketPath = path.join(dir, 'mr.sock');
    this.modelsPath = options.modelsPath ?? path.join(dir, 'models');
    this.options = options;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What the server printed so far (stdout and stderr interleaved), for failure messages. */
  output(): string {
    return this.chunks.join('');
  }

  /** The first output line matching `pattern`, once the server has printed one; rejects if the server exits first. */
  waitForOutput(pattern: RegExp): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this.output().split('\n').find((l) => pattern.test(l));
        if (line === undefined && this.running) return;
        this.outputListeners.delete(check);
        if (line !== undefined) resolve(line);
        else reject(new Error(`the server exited without printing ${pattern}:\n${this.output()}`));
      };
      this.outputListeners.add(check);
      void this.exited.then(check);
      check();
    });
  }

  request(urlPath: string, options: RequestOptions = {}): Promise<Reply> {
    return request(this.socketPath, urlPath, options);
  }

  /** The TCP port the server reported in its 'listening' line (started with --port), else undefined. */
  tcpPort(): number | undefined {
    return this.port;
  }

  /** A request to the TCP listener on 127.0.0.1; `headers` may set Host to anything. */
  tcpRequest(urlPath: string, options: RequestOptions = {}): Promise<Reply> {
    const port = this.tcpPort();
    if (port === undefined) throw new Error(`the server reported no TCP port:\n${this.output()}`);
    return request({ host: '127.0.0.1', port }, urlPath, options);
  }

  /** Spawns the server and resolves once GET / answers; rejects with its output if it exits first. */
  async start(): Promise<void> {
    if (this.running) throw new Error('the server is already running');
    this.chunks = [];
    const { executable, bareEnv } = this.options;
    const args = [...(executable ? [] : [CLI_PATH]), 'serve', '--socket', this.socketPath, '--models-path', this.modelsPath, ...(this.options.args ?? [])];
    const child = spawn(executable ?? process.execPath, args, {
      cwd: executable ? path.dirname(executable) : REPO_ROOT,
      env: bareEnv ? { ...this.options.env } : { ...process.env, ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (d: Buffer) => {
      this.chunks.push(d.toString('utf8'));
      if (this.chunks.length > MAX_OUTPUT_CHUNKS) this.chunks.shift();
      for (const listener of this.outputListeners) listener();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    await this.waitReady();
    // The socket answers before the TCP listener is up and has said its port: wait for that line.
    this.port = undefined;
    if (this.options.args?.includes('--port')) {
      const line = await this.waitForOutput(/\blistening\b.*\bport=\d+/);
      this.port = Number(/\bport=(\d+)/.exec(line)![1]);
    }
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (!this.running) {
        await this.exited;
        throw new Error(`the server exited with ${this.child?.exitCode} before answering:\n${this.output()}`);
      }
      const reply = await this.request('/').catch(() => undefined);
      if (reply?.status === 200) return;
      if (Date.now() > deadline) throw new Error(`the server did not answer GET / in time:\n${this.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** SIGTERM, then the exit code once the process is gone (null if it had to be killed). */
  async stop(): Promise<number | null> {
    if (!this.running) return this.exited;
    const child = this.child!;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL: no drain, no lock release, partial files left as they are. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** Stops the server if it runs, then starts it again on the same store and socket, with the given options merged in. */
  async restart(options: Omit<ServerOptions, 'modelsPath'> = {}): Promise<void> {
    await this.stop();
    this.options = { ...this.options, ...options };
    await this.start();
  }

  /**
   * Stops the server (SIGKILL if it is still running after SIGTERM's grace) and removes its temp
   * directory; resolves with the exit code as stop() does, so that a test can check the server
   * ended cleanly (undefined if stopping failed).
   */
  async dispose(): Promise<number | null | undefined> {
    const code = await this.stop().catch(() => undefined);
    await fs.rm(this.dir, { recursive: true, force: true });
    return code;
  }
}

/**
 * Starts a server in a fresh temp directory. `prepare`, if given, runs first, once the directory
 * exists and before the server opens its store: it fills the store (`server.modelsPath`) or puts
 * files in `server.dir`, which the server's dispose() removes with everything else.
 */
export async function startServer(options: ServerOptions = {}, prepare?: (server: ServerProcess) => Promise<void>): Promise<ServerProcess> {
  await fs.access(options.executable ?? CLI_PATH).catch(() => {
    throw new Error(`${options.executable ?? CLI_PATH} is missing: build the server first (npx tsc -p .)`);
  });
  const server = new ServerProcess(await makeTempDir('mr-e2e-'), options);
  try {
    await prepare?.(server);
    await server.start();
  } catch (err) {
    await server.dispose();
    throw err;
  }
  return server;
}
