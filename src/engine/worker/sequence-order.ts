/**
 * The llama.cpp sequence id of each sequence of a context, as far as batch order is concerned.
 * node-llama-cpp does not expose it, but hands out ids 0, 1, 2... in the order getSequence() is
 * called on a fresh context, and load.ts creates every sequence up front, in that order.
 */
import type { LlamaContextSequence } from '#node-llama-cpp';

const orders = new WeakMap<LlamaContextSequence, number>();

/** Records the sequences of a fresh context, in the order getSequence() returned them. */
export function recordSequenceOrder(sequences: readonly LlamaContextSequence[]): void {
  sequences.forEach((seq, i) => orders.set(seq, i));
}

/** A sequence's id within its context; 0 for one that was not recorded. */
export function sequenceOrder(seq: LlamaContextSequence): number {
  return orders.get(seq) ?? 0;
}
