/**
 * What a stored model can do, from its config: Ollama's rule, which the arrival check also
 * follows so that an embedding model is checked by embedding (an encoder cannot generate, and
 * would be refused for it). A model whose GGUF names a pooling type, or whose architecture is an
 * encoder, embeds; anything else completes text, calls tools when its template knows tools, and
 * thinks when its template has a reasoning section.
 */
import type { ModelMode } from '../engine/types.js';

export type Capability = 'completion' | 'tools' | 'thinking' | 'embedding';

/**
 * What a chat template that has a reasoning section mentions: the markers Qwen3 and DeepSeek-R1
 * write, the variable that switches it (Qwen3), or the history field that carries past reasoning.
 * The engine finds the section itself when it renders (engine/worker/thought-section.ts); this is
 * the cheap reading of the same template for listings.
 */
const THINKING_MARKS = ['<think>', 'enable_thinking', 'reasoning_content'];

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
  const capabilities: Capability[] = ['completion'];
  if (template.includes('tools')) capabilities.push('tools');
  if (THINKING_MARKS.some((mark) => template.includes(mark))) capabilities.push('thinking');
  return capabilities;
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
