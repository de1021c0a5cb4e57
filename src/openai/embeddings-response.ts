/** The embeddings list body. */
import type { EmbedResult } from '../engine/types.js';
import type { EncodingFormat } from './embeddings-request.js';

export interface EmbeddingsList {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** base64 of the vector as little-endian float32s, which is what OpenAI's clients decode. */
export function encodeFloat32Base64(vector: number[]): string {
  const buffer = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => buffer.writeFloatLE(value, i * 4));
  return buffer.toString('base64');
}

export interface EmbeddingsResponseOptions {
  /** The model name the client sent. */
  model: string;
  result: EmbedResult;
  /** How vectors are written. Defaults to 'float'. */
  encodingFormat?: EncodingFormat;
}

export function buildEmbeddingsResponse(options: EmbeddingsResponseOptions): EmbeddingsList {
  const base64 = options.encodingFormat === 'base64';
  return {
    object: 'list',
    data: options.result.vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: base64 ? encodeFloat32Base64(vector) : vector,
    })),
    model: options.model,
    usage: { prompt_tokens: options.result.promptTokens, total_tokens: options.result.promptTokens },
  };
}
