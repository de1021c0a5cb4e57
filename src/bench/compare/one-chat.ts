/**
 * One streamed chat request of the comparison's side measurements (cold start, restored prefix,
 * cached conversations), and the check they share: a measurement that got no token back has no
 * time to report, so it fails with what was being measured and why.
 */
import { streamChatCompletion, streamChatCompletionResent, type StreamOutcome } from '../http-client.js';
import type { RunningServer } from './servers.js';

/** `outcome` when it carried a token (`firstTokenMs` set); otherwise throws "`what` request failed: ...". */
export function withToken(outcome: StreamOutcome, what: string): StreamOutcome & { firstTokenMs: number } {
  if (!outcome.ok || outcome.firstTokenMs === undefined) throw new Error(`${what} request failed: ${outcome.error ?? `status ${outcome.status}`}`);
  return outcome as StreamOutcome & { firstTokenMs: number };
}

/**
 * A single user `prompt` to `server`, greedy, `maxTokens` tokens with EOS ignored, usage reported;
 * throws unless a token came back (withToken). `resend`: sent again when the connection dropped
 * before any reply (streamChatCompletionResent).
 */
export async function chatOnce(server: RunningServer, prompt: string, maxTokens: number, what: string, { resend = false }: { resend?: boolean } = {}): Promise<StreamOutcome & { firstTokenMs: number }> {
  const body = { model: server.model, messages: [{ role: 'user', content: prompt }], max_tokens: maxTokens, ignore_eos: true, temperature: 0, stream_options: { include_usage: true } };
  const outcome = resend ? await streamChatCompletionResent(server.endpoint, body) : await streamChatCompletion(server.endpoint, body);
  return withToken(outcome, what);
}
