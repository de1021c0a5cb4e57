/**
 * Cold start, as a user meets it: the first streamed chat for a model that is not loaded.
 *
 * - llama-server (what Docker Model Runner and Ollama do on a first request): spawn it on the
 *   file, poll /health every 10 ms, send the chat; measured from the spawn to the first token.
 * - Our server, running, with the model in its store but unloaded (unloaded through the API
 *   before each run): send the chat; measured from the send to the first token. Between runs
 *   the server idles for IDLE_BEFORE_RUN_MS, as a server does between a user's loads; whatever it
 *   prepares while idle (the spare engine Worker) is part of what is measured.
 * - Our server's first load: the same, right after the server was restarted (and idled), so that
 *   nothing an earlier load of the model taught it in memory helps; only what it stored does (the
 *   admission check's verdict, the saved prompt cache). This is a model's first request after a
 *   pull, or after the server started.
 *
 * The sides alternate run by run, so a drift of the machine's load falls on both.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { streamChatCompletion } from '../http-client.js';
import { percentile } from '../stats.js';
import { withToken } from './one-chat.js';
import { startLlamaServer, type RunningServer, type ServerSettings } from './servers.js';

/** How often the peer's /health is polled while it starts: finer than any client would. */
const HEALTH_POLL_MS = 10;
/** Idle time of our server before each run (after the unload). */
const IDLE_BEFORE_RUN_MS = 3_000;

const CHAT = { messages: [{ role: 'user', content: 'Hello! Say something short.' }], max_tokens: 8, temperature: 0 };

export interface ColdStartResult {
  /** Milliseconds to the first token, one per run. */
  peerMs: number[];
  oursMs: number[];
  /** Ours right after a restart (when the server can be restarted), one per run. */
  oursFirstLoadMs: number[];
  peerMedianMs?: number;
  oursMedianMs?: number;
  oursFirstLoadMedianMs?: number;
  error?: string;
}

/** `ours` is our running server; the peer is spawned anew for each run. */
export async function measureColdStarts(binary: string, settings: ServerSettings, ours: RunningServer, runs: number, log: (line: string) => void): Promise<ColdStartResult> {
  const result: ColdStartResult = { peerMs: [], oursMs: [], oursFirstLoadMs: [] };
  try {
    // One load before measuring: our first load of a packaged model runs its admission check
    // (once per file and engine build; a pulled model has it done at pull time).
    await unloadAll(ours);
    await firstTokenMs(ours, performance.now());
    for (let run = 0; run < runs; run++) {
      result.peerMs.push(await peerRun(binary, settings, run));
      await unloadAll(ours);
      await sleep(IDLE_BEFORE_RUN_MS);
      result.oursMs.push(await firstTokenMs(ours, performance.now()));
      let firstLoad = '';
      if (ours.restart) {
        await ours.restart();
        await sleep(IDLE_BEFORE_RUN_MS);
        result.oursFirstLoadMs.push(await firstTokenMs(ours, performance.now()));
        firstLoad = `, ours after a restart ${Math.round(result.oursFirstLoadMs.at(-1)!)} ms`;
      }
      log(`cold start run ${run + 1}/${runs}: llama-server ${Math.round(result.peerMs.at(-1)!)} ms, ours ${Math.round(result.oursMs.at(-1)!)} ms${firstLoad}`);
    }
  } catch (err) {
    result.error = (err as Error).message;
  }
  result.peerMedianMs = percentile(result.peerMs, 50);
  result.oursMedianMs = percentile(result.oursMs, 50);
  result.oursFirstLoadMedianMs = percentile(result.oursFirstLoadMs, 50);
  return result;
}

async function peerRun(binary: string, settings: ServerSettings, run: number): Promise<number> {
  const spawnedAt = performance.now();
  const server = await startLlamaServer(binary, { ...settings, label: `${settings.label}-cold-${run + 1}` }, 'llama-server', HEALTH_POLL_MS);
  try {
    return await firstTokenMs(server, spawnedAt);
  } finally {
    await server.stop();
  }
}

async function firstTokenMs(server: RunningServer, since: number): Promise<number> {
  const outcome = withToken(await streamChatCompletion(server.endpoint, { model: server.model, ...CHAT }), 'cold start');
  return outcome.firstTokenMs - since;
}

/** POST /engines/unload {"all": true} on our server's socket. */
export function unloadAll(server: RunningServer): Promise<void> {
  const endpoint = server.endpoint;
  if (endpoint.kind !== 'unix') return Promise.reject(new Error('cold start: our server is expected on a Unix socket'));
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: endpoint.socketPath, path: '/engines/unload', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`unload answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ all: true }));
  });
}
