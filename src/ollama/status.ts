/** The lines of Ollama's status streams (pull, push, create): free text, with byte counts for a layer in transit. */
import type { ProgressEvent } from '../models/index.js';

export type OllamaStatus =
  | { status: string }
  | { status: string; digest: string; total: number; completed: number };

/** Ollama names a layer by the first 12 hex digits of its digest. */
export function shortDigest(digest: string): string {
  return (digest.startsWith('sha256:') ? digest.slice('sha256:'.length) : digest).slice(0, 12);
}

/**
 * A create's catalog events as Ollama statuses: its steps are already in Ollama's words; a
 * warning (the model was stored but the admission check refused it) is shown as one line too.
 */
export function createStatus(event: ProgressEvent): OllamaStatus[] {
  if (event.type === 'progress') return [{ status: event.message }];
  if (event.type === 'warning') return [{ status: `warning: ${event.message}` }];
  return [];
}
