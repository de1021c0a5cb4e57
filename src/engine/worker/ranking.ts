/**
 * Reranking in 'reranking' mode: each document is scored against the query by the model's
 * classification head. The ranking context evaluates one pair at a time, so requests are
 * serialized; a pair that does not fit the context is an error, never truncated.
 */
import { AppError } from '../../errors.js';
import type { RankRequest, RankResult } from '../types.js';
import type { LoadedModel } from './load.js';

let chain: Promise<unknown> = Promise.resolve();

export function rank(loaded: LoadedModel, request: RankRequest, signal: AbortSignal): Promise<RankResult> {
  const run = chain.then(() => rankNow(loaded, request, signal));
  chain = run.catch(() => undefined);
  return run;
}

/** The separators node-llama-cpp puts around a query/document pair (BOS, EOS, SEP, EOS at most). */
const PAIR_OVERHEAD_TOKENS = 4;

async function rankNow(loaded: LoadedModel, request: RankRequest, signal: AbortSignal): Promise<RankResult> {
  const context = loaded.rankingContext;
  if (!context) throw new AppError('unsupported', 'this model was not loaded for reranking; load it in reranking mode to score documents');
  const contextSize = loaded.info.contextSize;
  const query = loaded.model.tokenize(request.query, false);
  const documents = request.documents.map((text) => loaded.model.tokenize(text, false));
  documents.forEach((tokens, i) => {
    const needed = query.length + tokens.length + PAIR_OVERHEAD_TOKENS;
    if (needed > contextSize) {
      throw new AppError('context_exceeded', `the query with document ${i} (${needed} tokens) exceeds the available context size (${contextSize} tokens), try increasing it`, {
        data: { n_prompt_tokens: needed, n_ctx: contextSize },
      });
    }
  });
  const scores: number[] = [];
  let promptTokens = 0;
  for (const tokens of documents) {
    if (signal.aborted) throw new AppError('aborted', 'the rerank request was cancelled');
    scores.push(await context.rank(query, tokens));
    promptTokens += query.length + tokens.length;
  }
  return { scores, promptTokens };
}
