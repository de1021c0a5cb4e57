/**
 * The engine's public vocabulary: what a caller asks of a loaded model and what comes back.
 * Plain data only, so that the same values cross the Worker boundary unchanged.
 */
import type { FileStamp } from '../util/file-stamp.js';

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text of the arguments, as OpenAI carries it. */
  arguments: string;
}

export interface ChatMessage {
  role: Role;
  content: string;
  /** Calls an assistant message made (for history sent back by the client). */
  toolCalls?: ToolCall[];
  /** For role 'tool': the call this message answers. */
  toolCallId?: string;
  name?: string;
}

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON schema of the arguments object. */
  parameters?: Record<string, unknown>;
}

/** 'auto' lets the model choose, 'none' forbids calls, 'required' forces one, a name forces that function. */
export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export interface SamplingOptions {
  /** Most tokens to generate. Defaults to what fits in the context. */
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  minP?: number;
  seed?: number;
  /** Strings that end generation; they are not part of the output. */
  stop?: string[];
  presencePenalty?: number;
  frequencyPenalty?: number;
  repeatPenalty?: number;
  /** Token id -> bias added to its logit; -100 or less bans the token. Ids are validated against the vocabulary. */
  logitBias?: Record<number, number>;
  /** Keep generating past end-of-generation tokens (llama-server's ignore_eos). */
  ignoreEos?: boolean;
  /** Constrain output to JSON (any object) when true. */
  json?: boolean;
  /** Constrain output to this JSON schema. */
  jsonSchema?: Record<string, unknown>;
  /**
   * Report each generated token's log-probability together with this many of the most likely
   * tokens at its step (0 to 20, OpenAI's and Ollama's top_logprobs limit). Costs time per token,
   * so only requests that set it pay. Defaults to unset: nothing reported.
   */
  logprobs?: number;
}

/** One token as the log-probability report shows it. */
export interface TokenAlternative {
  /** The token's text. */
  token: string;
  /** Natural log of its probability; never below -9999, OpenAI's stand-in for a probability of 0 (which has no logarithm). */
  logprob: number;
  /** The UTF-8 bytes of `token`. */
  bytes: number[];
}

/**
 * A generated token's log-probability and the most likely tokens at its step, most likely first.
 * With greedy sampling (temperature 0) the distribution is the model's full softmax over its
 * logits (after any logit bias, penalties and JSON grammar); with temperature above 0 it is the
 * one the sampler drew from, after top-k, top-p, min-p and temperature (llama-server's
 * post_sampling_probs view).
 */
export interface TokenLogprob extends TokenAlternative {
  top: TokenAlternative[];
}

/**
 * How the reasoning ("thinking") of a model whose chat template has a thinking section is
 * rendered and returned. Models without one ignore it unless `required`.
 */
export interface ThinkingOptions {
  /**
   * Reply with thinking on (true) or off (false: the section is written empty and closed where
   * the reply starts, Qwen3's `enable_thinking=false`). Defaults to the template's own way: on.
   */
  enabled?: boolean;
  /** Send the reply's leading thinking as 'thinking' events apart from the answer's 'text'. Defaults to false: the text as generated. */
  separate?: boolean;
  /** Drop the whitespace between the thinking and the answer, as Ollama does (llama-server keeps it). Defaults to false. */
  trimAnswerStart?: boolean;
  /** Refuse the request (AppError bad_request with data.unsupported 'thinking') when the model has no thinking section. Defaults to false. */
  required?: boolean;
}

export interface ChatRequest {
  kind: 'chat';
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  /** False: the answer carries at most one tool call (parallel_tool_calls: false). Defaults to true. */
  parallelToolCalls?: boolean;
  sampling: SamplingOptions;
  /** Reasoning models only. Defaults to the template's way, the thinking left in the text. */
  thinking?: ThinkingOptions;
}

export interface CompletionRequest {
  kind: 'completion';
  prompt: string;
  sampling: SamplingOptions;
}

export type GenerateRequest = ChatRequest | CompletionRequest;

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'abort';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens served from the KV cache instead of evaluated. */
  cachedTokens?: number;
  /** Completion tokens spent on reasoning before the answer, when the thinking went out apart. Defaults to none. */
  reasoningTokens?: number;
}

export interface Timings {
  /** Milliseconds from the request reaching the worker to the first generated token. */
  timeToFirstTokenMs: number;
  promptMs: number;
  generationMs: number;
  /** CPU threads llama.cpp used for the model's last batch (its share of the cores then), when the engine tells. */
  threads?: number;
}

export type GenerateEvent =
  /** `logprobs`: the entries of the tokens whose text this event completes, when the request asked for them. */
  | { type: 'text'; text: string; logprobs?: TokenLogprob[] }
  /** Reasoning, apart from the answer (only when the request's thinking.separate asked for it). */
  | { type: 'thinking'; text: string }
  | { type: 'tool_calls'; calls: ToolCall[] }
  | {
      type: 'done';
      finishReason: FinishReason;
      usage: Usage;
      timings: Timings;
      /** The request's stop sequence that ended the text, when one did. */
      stopSequence?: string;
    };

export interface EmbedRequest {
  inputs: string[];
}

export interface EmbedResult {
  vectors: number[][];
  promptTokens: number;
}

/** A tokenizer-only request (llama-server's /tokenize and /detokenize). */
export type TokensRequest =
  | {
      op: 'tokenize';
      text: string;
      /** Prepend the BOS token when the model wants one. Defaults to false. */
      addSpecial?: boolean;
      /** Also return each token's text. Defaults to false. */
      withPieces?: boolean;
    }
  | { op: 'detokenize'; tokens: number[] }
  /** The chat template applied to `messages`, ending where the assistant's reply starts. */
  | { op: 'apply-template'; messages: ChatMessage[] }
  /** What llama-server's /props tells of the model itself: its chat template. */
  | { op: 'props' };

/** `tokens` (and `pieces` when asked) for tokenize; `content` for detokenize. */
export interface TokensResult {
  tokens?: number[];
  pieces?: string[];
  content?: string;
  prompt?: string;
  /** The GGUF's tokenizer.chat_template ('' when it has none). */
  chatTemplate?: string;
}

/** One query scored against documents by a reranker ('reranking' mode). */
export interface RankRequest {
  query: string;
  documents: string[];
}

export interface RankResult {
  /** One relevance score in [0, 1] per document, in the documents' order. */
  scores: number[];
  /** Tokens evaluated over all the query/document pairs. */
  promptTokens: number;
}

/** What a caller holds while it uses a loaded model. */
export interface ModelSession {
  generate(request: GenerateRequest, signal?: AbortSignal): AsyncIterable<GenerateEvent>;
  embed(request: EmbedRequest, signal?: AbortSignal): Promise<EmbedResult>;
  rank(request: RankRequest, signal?: AbortSignal): Promise<RankResult>;
  tokenize(text: string, signal?: AbortSignal): Promise<number[]>;
  tokens(request: TokensRequest, signal?: AbortSignal): Promise<TokensResult>;
}

export type ModelMode = 'completion' | 'embedding' | 'reranking';

/** Runtime settings of one model; persisted by `_configure`. Every field optional: unset means the default. */
export interface RuntimeSettings {
  contextSize?: number;
  /** Parallel sequences in the model's context (requests served at once). */
  parallel?: number;
  threads?: number;
  /** Go-style duration or seconds; 0 unloads after each request, negative never. */
  keepAlive?: string;
  batchSize?: number;
  flashAttention?: boolean;
}

/** Everything the scheduler needs to load a model; resolved by the catalog, never by the engine. */
export interface LoadSpec {
  /** Model ID (sha256:...) */
  id: string;
  /** The reference the user asked for, shown by /engines/ps. */
  name: string;
  /** Path of the GGUF file (the first shard when sharded). */
  modelPath: string;
  mode: ModelMode;
  settings: RuntimeSettings;
  /** Context size the model was packaged with, used when settings name none. */
  packagedContextSize?: number;
  /** Context the model was trained for (GGUF context_length); the upper bound of a sane default. */
  trainContextSize?: number;
  /**
   * The model's attention geometry, when the caller already read the GGUF header; the memory
   * estimate uses it instead of parsing the header again on every cold load.
   */
  geometry?: ModelGeometry;
  /**
   * Tokens in the vocabulary, which size the logits buffer, when the caller already read the
   * header (with `geometry`). Defaults to reading it from the file.
   */
  vocabularySize?: number;
  /**
   * What the server knows of the file before it first loads it, the memo of a load that has no
   * earlier load's memo: its stamp when the main thread's GGUF check passed it, and the chat
   * wrapper type the admission check found. Defaults to none: every step in full.
   */
  firstLoadMemo?: LoadMemo;
}

/**
 * What one load of a model learned that makes the next load of it cheaper; the main side keeps it
 * per model ID for the server's life.
 */
export interface LoadMemo {
  /** The chat wrapper type found, as node-llama-cpp's chatWrappers table names it (worker/chat-wrapper.ts). */
  chatWrapperType?: string;
  /** The model file as it was when it passed validation: the same file, unchanged, is not read again (util/file-stamp.ts). */
  validatedFile?: FileStamp;
}

/** Hyper-parameters that size the KV cache. */
export interface ModelGeometry {
  blockCount: number;
  embeddingLength: number;
  headCount: number;
  /** Defaults to headCount (no grouped-query attention). */
  headCountKv?: number;
}
