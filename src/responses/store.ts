/**
 * The in-memory store behind `previous_response_id`, GET and DELETE: bounded by count (the oldest
 * goes first) and by age, with the clock injected so that expiry is testable without waiting.
 */
import { AppError } from '../errors.js';
import type { InputItem } from './input-items.js';

/** One stored response: the body GET returns and the items a follow-up turn continues from. */
export interface StoredResponse {
  /** The response object as the client received it. */
  response: Record<string, unknown>;
  /** The conversation up to this turn: prior turns, this turn's input, this turn's output. */
  conversation: InputItem[];
}

export interface ResponseStoreOptions {
  /** Most responses kept; storing one more drops the oldest. Defaults to DEFAULT_MAX_STORED_RESPONSES. */
  maxEntries?: number;
  /** Milliseconds a response is kept after it was stored. Defaults to DEFAULT_RESPONSE_TTL_MS. */
  ttlMs?: number;
  /** Milliseconds since the epoch, now. Defaults to Date.now. */
  now?: () => number;
}

export const DEFAULT_MAX_STORED_RESPONSES = 1000;
export const DEFAULT_RESPONSE_TTL_MS = 60 * 60 * 1000;
/** Expired ids are remembered this many times over the bound, so that a late lookup can say "expired". */
const EXPIRED_MEMORY_FACTOR = 4;

export class ResponseStore {
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  /** Insertion order is storage order, so the first key is always the oldest. */
  private readonly entries = new Map<string, { storedAt: number; value: StoredResponse }>();
  /** Ids dropped for age or count, so that their 404 can say why. */
  private readonly expired = new Set<string>();

  constructor(options: ResponseStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_STORED_RESPONSES;
    this.ttlMs = options.ttlMs ?? DEFAULT_RESPONSE_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    this.sweep();
    return this.entries.size;
  }

  put(id: string, value: StoredResponse): void {
    this.sweep();
    this.entries.delete(id);
    this.entries.set(id, { storedAt: this.now(), value });
    while (this.entries.size > this.maxEntries) this.forget(this.entries.keys().next().value!);
  }

  /** The stored response, or a not_found AppError that says whether it expired. */
  get(id: string, param?: string): StoredResponse {
    this.sweep();
    const entry = this.entries.get(id);
    if (entry) return entry.value;
    throw missing(id, this.expired.has(id), param);
  }

  /** Removes a response; throws like get() when there is none. */
  delete(id: string): void {
    this.get(id);
    this.entries.delete(id);
  }

  private sweep(): void {
    const cutoff = this.now() - this.ttlMs;
    for (const [id, entry] of this.entries) {
      if (entry.storedAt > cutoff) break;
      this.forget(id);
    }
  }

  private forget(id: string): void {
    this.entries.delete(id);
    this.expired.add(id);
    if (this.expired.size > this.maxEntries * EXPIRED_MEMORY_FACTOR) this.expired.delete(this.expired.values().next().value!);
  }
}

function missing(id: string, expired: boolean, param: string | undefined): AppError {
  const message = expired
    ? `response "${id}" has expired: stored responses are kept for a limited time and number`
    : `response "${id}" not found`;
  return new AppError('not_found', message, { data: { param: param ?? null, reason: expired ? 'expired' : 'unknown' } });
}
