/**
 * llama-server's /tokenize and /detokenize bodies, translated to the engine's TokensRequest, and
 * the engine's answer translated back to llama-server's JSON.
 */
import { z } from 'zod';
import type { TokensRequest, TokensResult } from '../engine/types.js';
import { AppError } from '../errors.js';
import { parseMessages } from '../openai/chat-request.js';
import { requireObjectBody } from '../openai/validate.js';

const tokenizeBody = z.object({
  model: z.string().trim().min(1).optional(),
  content: z.string(),
  add_special: z.boolean().optional(),
  with_pieces: z.boolean().optional(),
});

const detokenizeBody = z.object({
  model: z.string().trim().min(1).optional(),
  tokens: z.array(z.number().int().nonnegative()),
});

/** A parsed body: the model it names (if any) and the engine request. */
export interface ParsedTokens {
  model?: string;
  request: TokensRequest;
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue?.path.join('.') || undefined;
  throw new AppError('bad_request', `${param ?? 'body'}: ${issue?.message ?? 'invalid request'}`, { data: { param } });
}

export function parseTokenizeRequest(body: unknown): ParsedTokens {
  const b = parse(tokenizeBody, body);
  return { model: b.model, request: { op: 'tokenize', text: b.content, addSpecial: b.add_special ?? false, withPieces: b.with_pieces ?? false } };
}

export function parseDetokenizeRequest(body: unknown): ParsedTokens {
  const b = parse(detokenizeBody, body);
  return { model: b.model, request: { op: 'detokenize', tokens: b.tokens } };
}

/** /apply-template: the messages read exactly as the chat route reads them. */
export function parseApplyTemplateRequest(body: unknown): ParsedTokens {
  const object = requireObjectBody(body);
  const model = typeof object.model === 'string' && object.model.trim() !== '' ? object.model.trim() : undefined;
  if (object.model !== undefined && typeof object.model !== 'string') throw new AppError('bad_request', 'model must be a string', { data: { param: 'model' } });
  return { model, request: { op: 'apply-template', messages: parseMessages(object) } };
}

/** A piece as llama-server gives it: its text, or (not valid UTF-8) its bytes. */
export type Piece = string | number[];

export function buildTokensResponse(result: TokensResult): { tokens: Array<number | { id: number; piece: Piece }> } | { content: string } | { prompt: string } {
  if (result.prompt !== undefined) return { prompt: result.prompt };
  if (result.content !== undefined) return { content: result.content };
  const tokens = result.tokens ?? [];
  if (!result.pieces) return { tokens };
  return { tokens: tokens.map((id, i) => ({ id, piece: result.pieces![i] ?? '' })) };
}
