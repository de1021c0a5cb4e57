/**
 * POST /rerank body (Cohere / Jina / llama-server shape) -> RankRequest. Documents may be plain
 * strings or `{text}` objects; top_n cuts the sorted results and return_documents echoes them.
 */
import { z } from 'zod';
import type { RankRequest } from '../engine/types.js';
import { parseBody } from './parse-body.js';

const documentSchema = z.union([z.string(), z.object({ text: z.string() })], { error: 'each document must be a string or a {text} object' });

const rerankSchema = z.object({
  model: z.string().trim().min(1, 'model is required'),
  query: z.string('query must be a string'),
  documents: z
    .array(documentSchema, 'documents must be an array of strings or {text} objects')
    .min(1, 'documents must not be empty: send at least one document to score'),
  top_n: z.number().int('top_n must be an integer').positive('top_n must be at least 1').nullish(),
  return_documents: z.boolean('return_documents must be true or false').nullish(),
});

export interface ParsedRerankRequest {
  /** The model name as sent; the response echoes it. */
  model: string;
  request: RankRequest;
  /** How many results to keep after sorting; undefined keeps all. */
  topN?: number;
  returnDocuments: boolean;
}

export function parseRerankRequest(body: unknown): ParsedRerankRequest {
  const parsed = parseBody(rerankSchema, body);
  const documents = parsed.documents.map((doc) => (typeof doc === 'string' ? doc : doc.text));
  return {
    model: parsed.model,
    request: { query: parsed.query, documents },
    topN: parsed.top_n ?? undefined,
    returnDocuments: parsed.return_documents ?? false,
  };
}
