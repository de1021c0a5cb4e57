/**
 * What a stored model can do, from its config: Ollama's rule, which the arrival check also
 * follows so that an embedding model is checked by embedding (an encoder cannot generate, and
 * would be refused for it). A model whose GGUF names a pooling type, or whose architecture is an
 * encoder, embeds; anything else completes text, and calls tools when its template knows tools.
 */
import type { ModelMode } from '../engine/types.js';

export type Capability = 'completion' | 'tools' | 'embedding';

/** Encoder-only architectures: they embed text and cannot generate it. */
const ENCODER_ARCHITECTURES: ReadonlySet<string> = new Set([
  'bert',
  'nomic-bert',
  'nomic-bert-moe',
  'jina-bert-v2',
  'jina-bert-v3',
  'neo-bert',
  'modern-bert',
  't5encoder',
]);

export interface CapabilityFields {
  architecture?: string;
  /** Every GGUF metadata key with its value as text. */
  gguf?: Record<string, string>;
}

export function capabilitiesOf(config: CapabilityFields): Capability[] {
  const architecture = config.architecture ?? '';
  const gguf = config.gguf ?? {};
  if (ENCODER_ARCHITECTURES.has(architecture) || gguf[`${architecture}.pooling_type`] !== undefined) return ['embedding'];
  const template = gguf['tokenizer.chat_template'] ?? '';
  return template.includes('tools') ? ['completion', 'tools'] : ['completion'];
}

/** llama.cpp's LLAMA_POOLING_TYPE_RANK: the pooled vector goes through a classification head. */
const RANK_POOLING_TYPE = '4';

/** Whether the model scores query/document pairs (a reranker: pooling type rank, as bge-reranker and Qwen3-Reranker GGUFs carry). */
export function isReranker(config: CapabilityFields): boolean {
  const architecture = config.architecture ?? '';
  return config.gguf?.[`${architecture}.pooling_type`] === RANK_POOLING_TYPE;
}

/** The mode a model is checked in when it arrives: the one it will mostly run in. */
export function primaryMode(config: CapabilityFields): ModelMode {
  if (isReranker(config)) return 'reranking';
  return capabilitiesOf(config).includes('completion') ? 'completion' : 'embedding';
}
