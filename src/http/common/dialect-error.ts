/**
 * Errors raised before any router runs (the TCP listener's Host and API key checks) in the shape
 * the path's clients parse: OpenAI's {error:{message,type,code}} on the OpenAI-compatible paths,
 * Ollama's {error} under /api, and Docker's plain text everywhere else.
 */
import type { Request, Response } from 'express';
import type { AppError } from '../../errors.js';
import { sendOpenAIError, sendTextError } from './error-status.js';
import { sendOllamaError } from '../ollama/errors.js';

/** /engines/v1/..., /engines/llama.cpp/v1/... and the llama-server utilities (after the /v1 and /rerank aliases). */
const OPENAI_PATH = /^\/engines\/(?:[^/]+\/)?(?:v1(?:\/|$)|rerank(?:\/|$)|score(?:\/|$))/;

export function sendErrorForPath(req: Request, res: Response, error: AppError): void {
  if (OPENAI_PATH.test(req.path)) sendOpenAIError(res, error);
  else if (req.path === '/api' || req.path.startsWith('/api/')) sendOllamaError(res, error);
  else sendTextError(res, error);
}
