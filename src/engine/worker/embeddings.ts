/**
 * Embeddings in 'embedding' mode. The embedding context evaluates one input at a time, so
 * requests are serialized; each input is checked against the context size first (an input
 * that does not fit is an error, never truncated).
 */
import { AppError } from '../../errors.js';
import type { EmbedRequest, EmbedResult } from '../types.js';
import type { LoadedModel } from './load.js';

let chain: Promise<unknown> = Promise.resolve();

export function embed(loaded: LoadedModel, request: EmbedRequest, signal: AbortSignal): Promise<EmbedResult> {
  const run = chain.then(() => embedNow(loaded, request, signal));
  chain = run.catch(() => undefined);
  return run;
}

async function embedNow(loaded: LoadedModel, request: EmbedRequest, signal: AbortSignal): Promise<EmbedResult> {
  const context = loaded.embeddingContext;
  if (!context) throw new AppError('unsupported', 'this model was loaded for completion; load it in embedding mode to embed');
  const contextSize = loaded.info.contextSize;
  const tokenized = request.inputs.map((text) => loaded.model.tokenize(text, false));
  tokenized.forEach((tokens, i) => {
    if (tokens.length > contextSize) {
      throw new AppError('context_exceeded', `input ${i} (${tokens.length} tokens) exceeds the available context size (${contextSize} tokens), try increasing it`, {
        data: { n_prompt_tokens: tokens.length, n_ctx: contextSize },
      });
    }
  });
  const vectors: number[][] = [];
  let promptTokens = 0;
  for (const tokens of tokenized) {
    if (signal.aborted) throw new AppError('aborted', 'the embedding request was cancelled');
    const embedding = await context.getEmbeddingFor(tokens);
    vectors.push(Array.from(embedding.vector));
    promptTokens += tokens.length;
  }
  return { vectors, promptTokens };
}
