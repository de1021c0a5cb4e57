/**
 * The two servers a comparison runs, each started on one GGUF file with the same threads,
 * parallel sequences and per-sequence context: llama-server (the peer, built from the llama.cpp
 * source our binding runs) and our own server.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseEndpoint, type Endpoint } from '../endpoint.js';
import { httpGet, startProcess, stopProcess, waitUntilReady } from './process.js';

/** Settings shared by both servers so that they run the same work. */
export interface ServerSettings {
  gguf: string;
  /** CPU threads for generation and prompt processing. */
  threads: number;
  /** Sequences served at once. */
  parallel: number;
  /** Context tokens per sequence. */
  contextPerSequence: number;
  /** Directory for logs and sockets. */
  workDir: string;
  /** A name for log files, e.g. "q8_0". */
  label: string;
  /**
   * Start the server as a user does, with only the model and an address: its own defaults for
   * threads, sequences and context (the settings above are then unused). Defaults to false.
   */
  atDefaults?: boolean;
}

/** Settings that decide how both servers are tuned (the rest is where they run). */
export type Tuning = Pick<ServerSettings, 'threads' | 'parallel' | 'contextPerSequence' | 'atDefaults'>;

/**
 * llama-server's flags: none at defaults; else -np parallel slots and a total -c of
 * contextPerSequence × parallel, which it splits into one KV cache per slot (it shares one cache
 * only when it picks the slot count itself).
 */
export function llamaServerTuning(s: Tuning): string[] {
  return s.atDefaults ? [] : ['-t', String(s.threads), '-tb', String(s.threads), '-np', String(s.parallel), '-c', String(s.contextPerSequence * s.parallel)];
}

/**
 * Our server's flags: none at defaults; else the same threads, sequences and per-sequence context,
 * and the same KV layout, one cache per sequence (our default shares one, whose attention then
 * spans every sequence's cells: about 10 % of a prompt's time and 5 % of a token's on this model).
 */
export function modelRunnerTuning(s: Tuning): string[] {
  return s.atDefaults ? [] : ['--threads', String(s.threads), '--parallel', String(s.parallel), '--context-size', String(s.contextPerSequence), '--kv-unified=false'];
}

/** A started server: where to send requests, the model name to use, and how to stop it. */
export interface RunningServer {
  endpoint: Endpoint;
  model: string;
  /** The command line, for the report. */
  command: string;
  /** The server's process id. */
  pid: number;
  stop(): Promise<void>;
  /** Stops the server and starts it again on the same store and address (ours only): what it remembered in memory is gone, what it stored is not. */
  restart?(): Promise<void>;
}

/** A free loopback TCP port, found by binding port 0. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** llama-server on the GGUF file, tuned by llamaServerTuning. */
export async function startLlamaServer(binary: string, s: ServerSettings, name = 'llama-server', healthPollMs = 200): Promise<RunningServer> {
  const port = await freePort();
  const args = ['-m', s.gguf, ...llamaServerTuning(s), '--host', '127.0.0.1', '--port', String(port), '--no-webui'];
  const proc = startProcess(binary, args, path.join(s.workDir, `${name}-${s.label}.log`));
  const stop = () => stopProcess(proc);
  try {
    // /health answers 503 while the model loads and 200 once it can serve.
    await waitUntilReady(proc, name, async () => (await httpGet({ host: '127.0.0.1', port }, '/health'))?.status === 200, 120_000, healthPollMs);
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint: parseEndpoint(`http://127.0.0.1:${port}/v1`), model: path.basename(s.gguf), command: `${binary} ${args.join(' ')}`, pid: proc.child.pid!, stop };
}

/** Options of our server's side. */
export interface ModelRunnerOptions {
  /** The built CLI entry (dist/cli.js). */
  cli: string;
  /** The reference the model is packaged under. */
  reference: string;
}

/**
 * Our server on a Unix socket with a fresh store: the GGUF is packaged into the store with the
 * `package` command first, then `serve` starts tuned by modelRunnerTuning. The model loads on the
 * first request, which the benchmark's warm-up absorbs.
 */
export async function startModelRunner(options: ModelRunnerOptions, s: ServerSettings): Promise<RunningServer> {
  const store = await mkdtemp(path.join(os.tmpdir(), 'bench-store-'));
  const socketPath = path.join(s.workDir, `model-runner-${s.label}.sock`);
  const common = ['--models-path', store];
  try {
    await promisify(execFile)(process.execPath, [options.cli, 'package', '--gguf', s.gguf, ...common, options.reference], { maxBuffer: 16 << 20 });
  } catch (err) {
    await rm(store, { recursive: true, force: true });
    throw new Error(`packaging ${s.gguf} failed: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
  }
  const args = [options.cli, 'serve', '--socket', socketPath, ...common, ...modelRunnerTuning(s), '--log-level', 'warn'];
  const log = path.join(s.workDir, `model-runner-${s.label}.log`);
  let proc = startProcess(process.execPath, args, log);
  const stop = async () => {
    await stopProcess(proc);
    await rm(store, { recursive: true, force: true });
  };
  const ready = () => waitUntilReady(proc, 'model-runner', async () => (await httpGet({ socketPath }, '/models'))?.status === 200, 60_000);
  try {
    await ready();
  } catch (err) {
    await stop();
    throw err;
  }
  const server: RunningServer = { endpoint: parseEndpoint(`unix:${socketPath}:/engines/llama.cpp/v1`), model: options.reference, command: `node ${args.join(' ')}`, pid: proc.child.pid!, stop };
  server.restart = async () => {
    await stopProcess(proc);
    proc = startProcess(process.execPath, args, log.replace(/\.log$/, '-restarted.log'));
    server.pid = proc.child.pid!;
    await ready();
  };
  return server;
}
