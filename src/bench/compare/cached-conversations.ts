/**
 * Decode while long conversations stay cached. A chat server keeps the KV state of conversations
 * that went quiet, so that their next turn costs only its new tokens. Where every sequence shares
 * one KV cache, cells held for idle conversations are attended over by every other request's
 * decode (masked, but paid for) unless the server moves them out: llama-server at its defaults
 * saves idle slots to its RAM prompt cache and clears them; ours parks them in its prompt cache's
 * files (engine/worker/park-idle.ts).
 *
 * Per run and server: CONVERSATIONS long prompts (about CONVERSATION_TOKENS tokens each, one
 * reply token each), then one streamed reply of DECODE_TOKENS tokens to a short prompt; the two
 * servers alternate run by run, each on prompts of its own run. The reply's decode rate shows what
 * the cached cells cost every token; its time to first token shows what moving them out costs the
 * request that comes next (ours writes the idle conversations' states to files first).
 */
import { requestMetrics } from '../metrics.js';
import { generatePrompt } from '../prompt.js';
import { percentile } from '../stats.js';
import { chatOnce } from './one-chat.js';
import type { RunningServer, ServerSettings } from './servers.js';

/** Long conversations left idle before the decode: one fewer than the sequences both servers have at defaults. */
export const CONVERSATIONS = 3;
/** Length of each conversation's prompt, when the context allows it. */
export const CONVERSATION_TOKENS = 2000;
/** Tokens of the measured reply. */
export const DECODE_TOKENS = 128;
/** Room left in a sequence's context for the chat template and the reply. */
const CONTEXT_MARGIN_TOKENS = 100;
/** Words of the probe that measures this model's tokens per word. */
const PROBE_WORDS = 200;
const SHORT_PROMPT_WORDS = 20;

export interface CachedConversationsResult {
  /** Tokens per second of the measured reply, one per run. */
  oursTps: number[];
  peerTps: number[];
  oursMedianTps?: number;
  peerMedianTps?: number;
  /** Time to first token of the measured reply, in milliseconds, one per run. */
  oursTtftMs: number[];
  peerTtftMs: number[];
  oursMedianTtftMs?: number;
  peerMedianTtftMs?: number;
  /** Prompt tokens of one conversation, as our server counted them. */
  conversationTokens?: number;
  error?: string;
}

export async function measureDecodeWithCachedConversations(servers: { ours: RunningServer; peer: RunningServer }, settings: ServerSettings, runs: number, log: (line: string) => void): Promise<CachedConversationsResult> {
  const result: CachedConversationsResult = { oursTps: [], peerTps: [], oursTtftMs: [], peerTtftMs: [] };
  try {
    const seed = Math.floor(Math.random() * 2 ** 31);
    const target = Math.min(CONVERSATION_TOKENS, settings.contextPerSequence - CONTEXT_MARGIN_TOKENS);
    const probe = await send(servers.ours, generatePrompt(PROBE_WORDS, 0, seed), 1);
    const words = Math.max(1, Math.round((target * PROBE_WORDS) / (probe.usage?.prompt_tokens ?? PROBE_WORDS * 1.3)));
    for (let run = 1; run <= runs; run++) {
      const order = run % 2 === 1 ? (['ours', 'peer'] as const) : (['peer', 'ours'] as const);
      for (const side of order) {
        let index = run * 100;
        for (let c = 0; c < CONVERSATIONS; c++) {
          const long = await send(servers[side], generatePrompt(words, index++, seed), 1);
          if (side === 'ours') result.conversationTokens = long.usage?.prompt_tokens;
        }
        const reply = requestMetrics(await send(servers[side], generatePrompt(SHORT_PROMPT_WORDS, index, seed), DECODE_TOKENS));
        if (reply?.decodeTps === undefined) throw new Error(`${side}: the measured reply produced no decode rate`);
        (side === 'ours' ? result.oursTps : result.peerTps).push(reply.decodeTps);
        (side === 'ours' ? result.oursTtftMs : result.peerTtftMs).push(reply.ttftMs);
      }
      const last = (list: number[]) => list.at(-1)!.toFixed(1);
      log(`decode with ${CONVERSATIONS} long conversations cached, run ${run}/${runs}: ours ${last(result.oursTps)} tok/s (first token ${last(result.oursTtftMs)} ms), llama-server ${last(result.peerTps)} tok/s (${last(result.peerTtftMs)} ms)`);
    }
  } catch (err) {
    result.error = (err as Error).message;
  }
  result.oursMedianTps = percentile(result.oursTps, 50);
  result.peerMedianTps = percentile(result.peerTps, 50);
  result.oursMedianTtftMs = percentile(result.oursTtftMs, 50);
  result.peerMedianTtftMs = percentile(result.peerTtftMs, 50);
  return result;
}

/** One streamed chat of `prompt`, `maxTokens` tokens with EOS ignored, sent again if llama-server drops the connection. */
function send(server: RunningServer, prompt: string, maxTokens: number) {
  return chatOnce(server, prompt, maxTokens, 'cached-conversations', { resend: true });
}
