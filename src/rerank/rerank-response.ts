/** RankResult -> the /rerank response: results sorted by score (best first), cut to top_n. */
import type { RankResult } from '../engine/types.js';

export interface RerankResult {
  /** Position of the document in the request's list. */
  index: number;
  relevance_score: number;
  document?: { text: string };
}

export interface RerankResponse {
  id: string;
  model: string;
  object: 'list';
  results: RerankResult[];
  usage: { prompt_tokens: number; total_tokens: number };
}

export interface RerankResponseInput {
  id: string;
  model: string;
  documents: string[];
  result: RankResult;
  /** Results kept after sorting. Defaults to all. */
  topN?: number;
  /** Echo each document's text. Defaults to false. */
  returnDocuments?: boolean;
}

export function buildRerankResponse(input: RerankResponseInput): RerankResponse {
  const ranked = input.result.scores
    .map((score, index) => ({ index, score }))
    // Ties keep the request's order (Array.prototype.sort is stable).
    .sort((a, b) => b.score - a.score)
    .slice(0, input.topN ?? input.result.scores.length);
  return {
    id: input.id,
    model: input.model,
    object: 'list',
    results: ranked.map(({ index, score }) => ({
      index,
      relevance_score: score,
      ...(input.returnDocuments === true ? { document: { text: input.documents[index]! } } : {}),
    })),
    usage: { prompt_tokens: input.result.promptTokens, total_tokens: input.result.promptTokens },
  };
}
