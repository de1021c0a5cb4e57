/**
 * One generation request inside the Worker: render or tokenize the prompt, check it fits,
 * reuse the cached prefix, then stream text token by token (stop strings, EOG, length,
 * abort), or produce a tool call. Events go out through `emit` as soon as they exist.
 */
import { LlamaText, type Token } from '#node-llama-cpp';
import { AppError } from '../../errors.js';
import type { FinishReason, GenerateEvent, GenerateRequest, TokenLogprob, ToolCall } from '../types.js';
import { BatchBarrier } from './batch-barrier.js';
import { functionsFor, renderChat } from './chat-prompt.js';
import { answersInJson, GrammarCache, JSON_GRAMMAR_END } from './grammar.js';
import type { LoadedModel } from './load.js';
import { LogprobTrack } from './logprob-track.js';
import { reusePrefix } from './prompt-cache.js';
import { parkIdleSequences } from './park-idle.js';
import type { SavedPrefixes } from './saved-prefixes.js';
import { evaluateOptionsFor } from './sampling.js';
import { SequencePool } from './sequence-pool.js';
import { StopMatcher } from './stop-matcher.js';
import { ThinkingSplitter } from './thinking-splitter.js';
import { maybeInjectFault, withoutFaultMarkers, withTestFaults } from './test-faults.js';
import { TokenTextDecoder } from './text-decoder.js';
import type { RenderedChat } from './chat-prompt.js';
import { forcedCallText, generateCall, planTools, type ToolPlan } from './tool-calls.js';
import { runTokenLoop, type LoopEnd } from './token-loop.js';
import { limitToolCallEvents } from '../tool-call-limit.js';

/** Most alternatives per token a request may ask for (OpenAI's and Ollama's top_logprobs limit). */
export const MAX_TOP_LOGPROBS = 20;

export interface GenerationEnv {
  loaded: LoadedModel;
  grammars: GrammarCache;
  pool: SequencePool;
  barrier: BatchBarrier;
  /** Prompt prefixes saved when the model last unloaded or parked since; unset when the cache is off. */
  saved?: SavedPrefixes;
}

/** What generation needs around a loaded model: its grammars, its sequence pool, one batch barrier and its saved prefixes. */
export function createGenerationEnv(loaded: LoadedModel, saved?: SavedPrefixes): GenerationEnv {
  return {
    loaded,
    ...(saved ? { saved } : {}),
    grammars: new GrammarCache(loaded.llama, loaded.model),
    pool: new SequencePool(loaded.sequences),
    // One per context: it lines up that context's sequences into shared batches.
    barrier: new BatchBarrier(),
  };
}

interface Prompt {
  tokens: Token[];
  textStops: string[];
  tokenStops: Token[][];
  plan: ToolPlan;
  /** Set when the reply's thinking goes out apart from its answer. */
  thought?: NonNullable<RenderedChat['thought']>;
}

export async function generate(env: GenerationEnv, request: GenerateRequest, signal: AbortSignal, sink: (event: GenerateEvent) => void): Promise<void> {
  // parallelToolCalls: false holds here, whatever produced the calls.
  const emit = limitToolCallEvents(request, sink);
  const started = performance.now();
  const { model } = env.loaded;
  const prompt = buildPrompt(env, request);
  const contextSize = env.loaded.info.contextSize;
  if (prompt.tokens.length >= contextSize) {
    const n = prompt.tokens.length;
    throw new AppError('context_exceeded', `request (${n} tokens) exceeds the available context size (${contextSize} tokens), try increasing it`, {
      data: { n_prompt_tokens: n, n_ctx: contextSize },
    });
  }
  const sampling = request.sampling;
  if (sampling.maxTokens !== undefined && (!Number.isInteger(sampling.maxTokens) || sampling.maxTokens < 0)) {
    throw new AppError('bad_request', `max tokens must be a non-negative integer, got ${sampling.maxTokens}`);
  }
  const top = sampling.logprobs;
  if (top !== undefined && (!Number.isInteger(top) || top < 0 || top > MAX_TOP_LOGPROBS)) {
    throw new AppError('bad_request', `top logprobs must be an integer from 0 to ${MAX_TOP_LOGPROBS}, got ${top}`);
  }
  // Default: whatever fits in the context after the prompt.
  const maxTokens = Math.min(sampling.maxTokens ?? Infinity, contextSize - prompt.tokens.length);
  const seq = await env.pool.acquire(prompt.tokens, signal);
  try {
    const { kvUnified, kvCells, parallel } = env.loaded.info;
    // The other sequences' cached cells would slow every decode of this one cache: their states move to files.
    if (kvUnified && env.saved) await parkIdleSequences(env.pool, env.saved);
    // A saved prefix (from before the model last unloaded, or parked), when it spares more than what the sequence holds.
    await env.saved?.restoreInto(seq, prompt.tokens);
    const { cachedTokens, rest } = await reusePrefix(seq, prompt.tokens);
    // One shared cache: this request's prompt and a fair share of its answer must find free cells.
    if (kvUnified && kvCells) await env.pool.makeRoom(rest.length + Math.min(maxTokens, Math.floor(kvCells / parallel)), kvCells);
    const generated: Token[] = [];
    const evaluate = evaluateOptionsFor(model, env.loaded.vocabularySize, sampling, () => [...prompt.tokens, ...generated]);
    const grammarState = await env.grammars.stateFor(sampling);
    if (grammarState) evaluate.grammarEvaluationState = grammarState;
    const evalStarted = performance.now();
    // The caller's stop sequence that ended the text, for dialects that report it (Anthropic).
    let matchedStop: string | undefined;
    // Tokens sampled while the reply was still in its reasoning section (counted only when split off).
    let reasoningTokens = 0;
    const finish = (reason: FinishReason, firstTokenAt: number | undefined, completionTokens: number) => {
      const now = performance.now();
      const first = firstTokenAt ?? now;
      emit({
        type: 'done',
        finishReason: reason,
        usage: { promptTokens: prompt.tokens.length, completionTokens, cachedTokens, ...(reasoningTokens > 0 ? { reasoningTokens } : {}) },
        ...(matchedStop === undefined ? {} : { stopSequence: matchedStop }),
        timings: { timeToFirstTokenMs: first - started, promptMs: first - evalStarted, generationMs: now - first, threads: env.loaded.context?.currentThreads },
      });
    };
    if (maxTokens === 0) return finish('length', undefined, 0);

    const callEnv = { model, wrapper: env.loaded.chatWrapper, grammars: env.grammars, seq, barrier: env.barrier, evaluate, signal, plan: prompt.plan };
    if (prompt.plan.mode === 'forced') {
      const result = await generateCall(callEnv, rest, maxTokens, prompt.plan.forcedName);
      return finishCall(result.call, result.end, emit, (r) => finish(r, result.firstTokenAt, result.sampled));
    }

    const requestedStops = sampling.stop ?? [];
    const userStops = withoutFaultMarkers(requestedStops);
    const stops = [...userStops, ...prompt.textStops, ...(answersInJson(sampling) ? [JSON_GRAMMAR_END] : [])];
    const callPrefixAt = stops.length;
    const matcher = new StopMatcher([...stops, ...prompt.plan.callPrefixes]);
    const decoder = new TokenTextDecoder(model);
    const track = top === undefined ? undefined : new LogprobTrack((t) => model.detokenize([t], true));
    let stopped: { callPrefix: boolean; rest: string } | undefined;
    /** Tokens whose text has gone out so far (the test faults act after the second). */
    let textTokens = 0;
    // Stop strings apply to the whole reply (as llama-server does); the thinking is split off after them.
    const splitter = prompt.thought ? new ThinkingSplitter(prompt.thought.section.markers, prompt.thought.openedInPrompt, request.kind === 'chat' && request.thinking?.trimAnswerStart === true) : undefined;
    /**
     * With the thinking split off, log-probabilities go with the answer: the entries of text decoded
     * once the section has closed (the closing piece included) wait for the next answer text.
     */
    let answerLogprobs: TokenLogprob[] = [];
    const emitPieces = (pieces: { kind: 'thinking' | 'text'; text: string }[]) => {
      for (const p of pieces) {
        if (p.kind === 'thinking') emit({ type: 'thinking', text: p.text });
        else {
          emit({ type: 'text', text: p.text, ...(answerLogprobs.length > 0 ? { logprobs: answerLogprobs } : {}) });
          answerLogprobs = [];
        }
      }
    };
    /** `last`: a stop string cut the text right after this (its entries may still have to go out, with no text). */
    const emitText = (text: string, last = false) => {
      if (text.length === 0 && !(last && track)) return;
      const logprobs = track?.take(text.length, last);
      if (!splitter) {
        if (text.length === 0 && !logprobs?.length) return;
        emit({ type: 'text', text, ...(logprobs ? { logprobs } : {}) });
        return;
      }
      const pieces = text.length > 0 ? splitter.push(text) : [];
      if (logprobs && splitter.answering) answerLogprobs.push(...logprobs);
      emitPieces(pieces);
    };
    /** What the splitter still holds, then any answer entries that found no text to go with. */
    const flushSplitter = () => {
      if (!splitter) return;
      emitPieces(splitter.flush());
      if (answerLogprobs.length > 0) emitPieces([{ kind: 'text', text: '' }]);
    };
    const decode = (text: string) => {
      if (text.length > 0) track?.decodedAs(text);
      return text;
    };
    const loop = await runTokenLoop({
      seq,
      barrier: withTestFaults(env.barrier, requestedStops, signal),
      input: rest,
      evaluate,
      maxTokens,
      signal,
      ...(top === undefined ? {} : { scoreTop: top }),
      onToken: (token, score) => {
        generated.push(token);
        if (model.isEogToken(token)) return false; // only seen with ignoreEos: skip it, keep going
        if (endsWithAny(generated, prompt.tokenStops)) {
          stopped = { callPrefix: false, rest: '' };
          return true;
        }
        if (score) track?.sampled(token, score);
        const text = decode(decoder.push(token));
        if (splitter && !splitter.answering) reasoningTokens++;
        if (text.length === 0) return false;
        const result = matcher.push(text);
        emitText(result.text, result.match !== undefined);
        // After the text went out: a test that holds the engine has seen its answer start.
        if (result.text.length > 0) maybeInjectFault(requestedStops, ++textTokens);
        if (result.match) {
          stopped = { callPrefix: result.match.index >= callPrefixAt, rest: result.rest ?? '' };
          if (result.match.index < userStops.length) matchedStop = userStops[result.match.index];
        }
        return stopped !== undefined;
      },
    });
    if (stopped) flushSplitter();
    if (stopped?.callPrefix && loop.unevaluated !== undefined) {
      const call = await generateCall(callEnv, [loop.unevaluated], maxTokens - loop.sampled, undefined, stopped.rest.trimStart());
      return finishCall(call.call, call.end, emit, (r) => finish(r, loop.firstTokenAt, loop.sampled + call.sampled));
    }
    if (!stopped) {
      const tail = matcher.push(decode(decoder.flush()));
      emitText(tail.text, tail.match !== undefined);
      if (!tail.match) emitText(matcher.flush());
      flushSplitter();
    }
    finish(stopped ? 'stop' : reasonOf(loop.end), loop.firstTokenAt, loop.sampled);
  } catch (err) {
    throw kvFullError(err, env.loaded.info) ?? err;
  } finally {
    env.pool.release(seq);
  }
}

/** llama.cpp found no free cells for a batch: the shared cache is full of other requests' tokens. */
function kvFullError(err: unknown, info: GenerationEnv['loaded']['info']): AppError | undefined {
  if (!(err instanceof Error) || !err.message.includes('could not find a KV slot')) return undefined;
  const cache = info.kvUnified ? `the KV cache its ${info.parallel} sequences share (${info.kvCells} cells)` : `its KV cache (${info.contextSize} cells)`;
  return new AppError('unavailable', `the model's context is full: ${cache} holds other requests' tokens; retry when they have finished, or load the model with a larger context size`, { cause: err });
}

function buildPrompt(env: GenerationEnv, request: GenerateRequest): Prompt {
  const { model, chatWrapper } = env.loaded;
  if (request.kind === 'completion') {
    const tokens = model.tokenize(request.prompt, false);
    const bos = model.tokens.bos;
    if (model.tokens.shouldPrependBosToken && bos !== null && tokens[0] !== bos) tokens.unshift(bos);
    if (tokens.length === 0) throw new AppError('bad_request', 'the prompt is empty');
    return { tokens, textStops: [], tokenStops: [], plan: { mode: 'none', tools: [], callPrefixes: [] } };
  }
  const plan = planTools(chatWrapper, request.tools, request.toolChoice);
  const functions = plan.mode === 'none' ? undefined : functionsFor(plan.tools);
  // Output bound from its first token (a JSON grammar, a forced call) cannot write a reasoning
  // section first: the reply starts with thinking switched off instead.
  const bound = request.sampling.json === true || request.sampling.jsonSchema !== undefined || plan.mode === 'forced';
  const thinking = bound ? { ...request.thinking, enabled: false } : request.thinking;
  const rendered = renderChat(model, chatWrapper, request.messages, functions, thinking);
  const tokens = plan.mode === 'forced' ? LlamaText(forcedCallText(chatWrapper, rendered.text, plan)).tokenize(model.tokenizer) : rendered.tokens;
  const separate = request.thinking?.separate === true && rendered.thought !== undefined;
  return { tokens, textStops: rendered.textStops, tokenStops: rendered.tokenStops, plan, ...(separate ? { thought: rendered.thought } : {}) };
}

function finishCall(call: ToolCall | undefined, end: LoopEnd, emit: (e: GenerateEvent) => void, finish: (r: FinishReason) => void): void {
  if (call) {
    emit({ type: 'tool_calls', calls: [call] });
    return finish('tool_calls');
  }
  finish(reasonOf(end));
}

function reasonOf(end: LoopEnd): FinishReason {
  if (end === 'length') return 'length';
  if (end === 'abort') return 'abort';
  return 'stop';
}

function endsWithAny(tokens: readonly Token[], sequences: readonly Token[][]): boolean {
  return sequences.some((s) => s.length <= tokens.length && s.every((t, i) => tokens[tokens.length - s.length + i] === t));
}
