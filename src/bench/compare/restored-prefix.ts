/**
 * Restored-prefix time to first token: a long prompt (about 2,000 tokens, a system prompt or tool
 * preamble) sent again after its model was unloaded. Our server saved the prompt's KV state at the
 * unload and restores it on the reload; what is measured, per run and on a prompt of its own:
 *
 * - ours, cold: the model unloaded, a prompt never seen (nothing to restore): send to first token;
 * - ours, restored: unloaded again (which saves the prompt), the same prompt: send to first token;
 * - llama-server, which keeps nothing across a restart: spawn, poll /health, the same prompt.
 *
 * The target is restored <= 0.2x of cold. Between runs the server idles as in cold-start.ts.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StreamOutcome } from '../http-client.js';
import { generatePrompt } from '../prompt.js';
import { percentile } from '../stats.js';
import { unloadAll } from './cold-start.js';
import { chatOnce } from './one-chat.js';
import { startLlamaServer, type RunningServer, type ServerSettings } from './servers.js';

/** The prompt length asked for, when the context allows it. */
export const RESTORED_PROMPT_TOKENS = 2000;
/** Room left in the context for the chat template and the generated tokens. */
const CONTEXT_MARGIN_TOKENS = 100;
const HEALTH_POLL_MS = 10;
const IDLE_BEFORE_RUN_MS = 3_000;
/** Words of the probe that measures this model's tokens per word. */
const PROBE_WORDS = 200;

export interface RestoredPrefixResult {
  /** Prompt tokens per request, as our server counted them. */
  promptTokens?: number;
  /** Milliseconds to the first token, one per run. */
  restoredMs: number[];
  coldMs: number[];
  peerMs: number[];
  /** Prompt tokens our server served from the restored state, per run. */
  cachedTokens: number[];
  restoredMedianMs?: number;
  coldMedianMs?: number;
  peerMedianMs?: number;
  error?: string;
}

export async function measureRestoredPrefix(binary: string, settings: ServerSettings, ours: RunningServer, runs: number, log: (line: string) => void): Promise<RestoredPrefixResult> {
  const result: RestoredPrefixResult = { restoredMs: [], coldMs: [], peerMs: [], cachedTokens: [] };
  try {
    const target = Math.min(RESTORED_PROMPT_TOKENS, settings.contextPerSequence - CONTEXT_MARGIN_TOKENS);
    const seed = Math.floor(Math.random() * 2 ** 31);
    const probe = await send(ours, generatePrompt(PROBE_WORDS, 0, seed), performance.now());
    const words = Math.max(1, Math.round((target * PROBE_WORDS) / (probe.usage?.prompt_tokens ?? PROBE_WORDS * 1.3)));
    for (let run = 1; run <= runs; run++) {
      const prompt = generatePrompt(words, run, seed);
      await unloadAll(ours);
      await sleep(IDLE_BEFORE_RUN_MS);
      const cold = await send(ours, prompt, performance.now());
      result.promptTokens = cold.usage?.prompt_tokens;
      result.coldMs.push(cold.firstTokenMs! - cold.startMs);
      await unloadAll(ours);
      await sleep(IDLE_BEFORE_RUN_MS);
      const restored = await send(ours, prompt, performance.now());
      result.restoredMs.push(restored.firstTokenMs! - restored.startMs);
      result.cachedTokens.push(restored.usage?.prompt_tokens_details?.cached_tokens ?? 0);
      result.peerMs.push(await peerRun(binary, settings, prompt, run));
      log(`restored prefix run ${run}/${runs} (${result.promptTokens} prompt tokens, ${result.cachedTokens.at(-1)} restored): ours cold ${Math.round(result.coldMs.at(-1)!)} ms, ours restored ${Math.round(result.restoredMs.at(-1)!)} ms, llama-server spawned ${Math.round(result.peerMs.at(-1)!)} ms`);
    }
  } catch (err) {
    result.error = (err as Error).message;
  }
  result.restoredMedianMs = percentile(result.restoredMs, 50);
  result.coldMedianMs = percentile(result.coldMs, 50);
  result.peerMedianMs = percentile(result.peerMs, 50);
  return result;
}

async function peerRun(binary: string, settings: ServerSettings, prompt: string, run: number): Promise<number> {
  const spawnedAt = performance.now();
  const server = await startLlamaServer(binary, { ...settings, label: `${settings.label}-restored-${run}` }, 'llama-server', HEALTH_POLL_MS);
  try {
    const outcome = await send(server, prompt, spawnedAt);
    return outcome.firstTokenMs! - spawnedAt;
  } finally {
    await server.stop();
  }
}

/** One streamed chat of `prompt`; `firstTokenMs` is set on success. */
async function send(server: RunningServer, prompt: string, since: number): Promise<StreamOutcome> {
  return { ...(await chatOnce(server, prompt, 4, 'restored prefix')), startMs: since };
}
