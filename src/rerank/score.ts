/**
 * POST /score (vLLM's shape, which Docker Model Runner serves): text_1 is the query, text_2 one
 * document or a list; the response gives one score per document in request order.
 */
import { z } from 'zod';
import type { RankRequest, RankResult } from '../engine/types.js';
import { parseBody } from './parse-body.js';

const scoreSchema = z.object({
  model: z.string().trim().min(1, 'model is required'),
  text_1: z.string('text_1 must be a string'),
  text_2: z.union([z.string(), z.array(z.string()).min(1, 'text_2 must not be empty: send at least one text to score')], 'text_2 must be a string or an array of strings'),
});

export interface ParsedScoreRequest {
  model: string;
  request: RankRequest;
}

export function parseScoreRequest(body: unknown): ParsedScoreRequest {
  const parsed = parseBody(scoreSchema, body);
  const documents = typeof parsed.text_2 === 'string' ? [parsed.text_2] : parsed.text_2;
  return { model: parsed.model, request: { query: parsed.text_1, documents } };
}

export interface ScoreResponse {
  id: string;
  object: 'list';
  created: number;
  model: string;
  data: Array<{ index: number; object: 'score'; score: number }>;
  usage: { prompt_tokens: number; total_tokens: number };
}

export interface ScoreResponseInput {
  id: string;
  model: string;
  /** Unix seconds. */
  created: number;
  result: RankResult;
}

export function buildScoreResponse(input: ScoreResponseInput): ScoreResponse {
  return {
    id: input.id,
    object: 'list',
    created: input.created,
    model: input.model,
    data: input.result.scores.map((score, index) => ({ index, object: 'score', score })),
    usage: { prompt_tokens: input.result.promptTokens, total_tokens: input.result.promptTokens },
  };
}
