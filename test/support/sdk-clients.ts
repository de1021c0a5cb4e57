/**
 * The official clients (openai, @anthropic-ai/sdk, ollama), unchanged, pointed at a test server's
 * TCP listener: they speak HTTP through fetch, which cannot reach a Unix socket, so the server
 * must have been started with `--port 0`. No client retries: a test sees the server's first answer,
 * and a retry cannot hide a failure.
 */
import Anthropic from '@anthropic-ai/sdk';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import type { ServerProcess } from './server-harness.js';

/** Any key: a server without MODEL_RUNNER_API_KEY ignores it, but the SDKs insist on one. */
const UNUSED_KEY = 'not-needed';

/** http://127.0.0.1:PORT of the server's TCP listener; throws if it was started without --port. */
export function tcpBaseUrl(server: ServerProcess): string {
  const port = server.tcpPort();
  if (port === undefined) throw new Error(`the server has no TCP listener (start it with --port 0):\n${server.output()}`);
  return `http://127.0.0.1:${port}`;
}

/** An openai client on the server's OpenAI routes under `prefix`. Defaults to /v1. */
export function openaiClient(server: ServerProcess, prefix = '/v1'): OpenAI {
  return new OpenAI({ baseURL: `${tcpBaseUrl(server)}${prefix}`, apiKey: UNUSED_KEY, maxRetries: 0 });
}

/** An @anthropic-ai/sdk client on the server's /v1/messages routes. */
export function anthropicClient(server: ServerProcess): Anthropic {
  return new Anthropic({ baseURL: tcpBaseUrl(server), apiKey: UNUSED_KEY, maxRetries: 0 });
}

/** An ollama client on the server's /api routes. */
export function ollamaClient(server: ServerProcess): Ollama {
  return new Ollama({ host: tcpBaseUrl(server) });
}
