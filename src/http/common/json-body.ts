/**
 * JSON body parsing scoped to the routes that use it (a router-wide parser would consume bodies
 * meant for other routers). Parser failures become AppErrors rendered by the caller's error
 * writer, so OpenAI routes answer OpenAI-shaped errors and native routes plain text.
 */
import express, { type RequestHandler, type Response } from 'express';
import { AppError } from '../../errors.js';

/** Docker Model Runner caps inference bodies at 10 MiB (maximumOpenAIInferenceRequestSize). */
export const DEFAULT_JSON_LIMIT_BYTES = 10 * 1024 * 1024;

export interface JsonBodyOptions {
  /** Largest accepted body in bytes. Defaults to DEFAULT_JSON_LIMIT_BYTES. */
  limitBytes?: number;
  /** Renders a parse or size error. */
  sendError(res: Response, error: AppError): void;
}

/** Turns a body-parser error (an http-error with `status` and `type`) into a domain error. */
export function bodyParserError(err: unknown): AppError {
  const { status, type, message } = err as { status?: number; type?: string; message?: string };
  if (status === 413 || type === 'entity.too.large') {
    return new AppError('too_large', 'request too large', { cause: err });
  }
  return new AppError('bad_request', `invalid request body: ${message ?? String(err)}`, { cause: err });
}

export function jsonBody(options: JsonBodyOptions): RequestHandler {
  const parse = express.json({
    limit: options.limitBytes ?? DEFAULT_JSON_LIMIT_BYTES,
    // Clients such as `curl -d` omit or mislabel Content-Type; Docker parses the body regardless.
    type: () => true,
    strict: false,
  });
  return (req, res, next) => {
    parse(req, res, (err?: unknown) => {
      if (err) options.sendError(res, bodyParserError(err));
      else next();
    });
  };
}
