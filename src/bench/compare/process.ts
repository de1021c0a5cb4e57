/** Starting, probing and stopping the server processes a comparison benchmark runs. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** A server process with its output going to a log file. */
export interface ServerProcess {
  child: ChildProcess;
  logPath: string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
}

export function startProcess(command: string, args: string[], logPath: string, env: NodeJS.ProcessEnv = process.env): ServerProcess {
  const log = createWriteStream(logPath);
  log.write(`$ ${command} ${args.join(' ')}\n`);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      log.end();
      resolve(code ?? signal ?? 'unknown');
    });
  });
  return { child, logPath, exited };
}

/**
 * Stops a process started by startProcess: SIGTERM, then SIGKILL after `graceMs`. Only this
 * child's pid is signalled. Defaults to a 10 s grace period.
 */
export async function stopProcess(proc: ServerProcess, graceMs = 10_000): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

/** Target of a plain GET: a Unix socket or a TCP port on a host. */
export type GetTarget = { socketPath: string } | { host: string; port: number };

/** Status and body of a GET, or undefined when nothing answered. */
export function httpGet(target: GetTarget, path: string): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ ...target, path, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => (body += s));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/**
 * Polls `ready` every `pollMs` (default 200 ms) until it returns true. Throws when the process exits first or when
 * `timeoutMs` passes, naming the log to read.
 */
export async function waitUntilReady(proc: ServerProcess, what: string, ready: () => Promise<boolean>, timeoutMs: number, pollMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exit: number | string | undefined;
  void proc.exited.then((code) => (exit = code));
  while (Date.now() < deadline) {
    if (exit !== undefined) throw new Error(`${what} exited (${exit}) before it was ready; see ${proc.logPath}`);
    if (await ready()) return;
    await sleep(pollMs);
  }
  throw new Error(`${what} was not ready after ${timeoutMs} ms; see ${proc.logPath}`);
}

/** The pid and all its descendants (children of any of their threads), from /proc; just the pid elsewhere. */
export async function processTree(pid: number): Promise<number[]> {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    const tasks = await readdir(`/proc/${all[i]}/task`).catch(() => [] as string[]);
    for (const task of tasks) {
      const children = await readFile(`/proc/${all[i]}/task/${task}/children`, 'utf8').catch(() => '');
      all.push(...children.split(/\s+/).filter(Boolean).map(Number));
    }
  }
  return all;
}

/**
 * Resident memory of a process and its descendants, from VmRSS in /proc/<pid>/status: what the
 * server costs the machine, helpers included. Undefined when /proc cannot be read.
 */
export async function processTreeRssBytes(pid: number): Promise<number | undefined> {
  let total = 0;
  let read = false;
  for (const p of await processTree(pid)) {
    const status = await readFile(`/proc/${p}/status`, 'utf8').catch(() => '');
    const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    if (kib === undefined) continue;
    total += Number(kib) * 1024;
    read = true;
  }
  return read ? total : undefined;
}

/**
 * File names of the ggml CPU backends (libggml-cpu*.so) mapped into a process or its descendants,
 * from /proc/<pid>/maps: with GGML_BACKEND_DL, ggml loads one variant per CPU (e.g.
 * libggml-cpu-sapphirerapids.so), and both servers must run the same one for a fair comparison.
 * Empty when nothing matched or /proc cannot be read.
 */
export async function loadedCpuBackends(pid: number): Promise<string[]> {
  const found = new Set<string>();
  for (const p of await processTree(pid)) {
    const maps = await readFile(`/proc/${p}/maps`, 'utf8').catch(() => '');
    for (const line of maps.split('\n')) {
      const file = line.trim().split(/\s+/).slice(5).join(' ');
      if (/\/libggml-cpu[^/]*\.so[^/]*$/.test(file)) found.add(path.basename(file));
    }
  }
  return [...found].sort();
}
