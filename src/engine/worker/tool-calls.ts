/**
 * Tool calls in the chat wrapper's own function-call syntax. The call prefix is either forced
 * into the prompt (toolChoice 'required' or a name) or detected in the output ('auto'); then
 * grammars constrain the function name to the declared tools and the arguments to the tool's
 * JSON schema, so a forced call is well-formed even from a model that never learned tools.
 */
import { randomBytes } from 'node:crypto';
import { LlamaText, type ChatWrapper, type LlamaModel, type SequenceEvaluateOptions, type Token } from '#node-llama-cpp';
import { AppError } from '../../errors.js';
import type { ToolCall, ToolChoice, ToolDefinition } from '../types.js';
import { callSyntax, plainTextOf } from './chat-prompt.js';
import { JSON_GRAMMAR_END, type GrammarCache } from './grammar.js';
import { TokenTextDecoder } from './text-decoder.js';
import { runTokenLoop, type LoopEnd } from './token-loop.js';

export interface ToolPlan {
  mode: 'none' | 'auto' | 'forced';
  tools: ToolDefinition[];
  /** Set when the call must use this function (a named choice, or 'required' with one tool). */
  forcedName?: string;
  /** Text that starts a call in the model's output; watched for in 'auto' mode. */
  callPrefixes: string[];
}

export function planTools(wrapper: ChatWrapper, tools: readonly ToolDefinition[] | undefined, choice: ToolChoice | undefined): ToolPlan {
  const list = [...(tools ?? [])];
  const resolved = choice ?? 'auto';
  if (list.length === 0 || resolved === 'none') {
    if (typeof resolved === 'object' || resolved === 'required') {
      throw new AppError('bad_request', 'tool_choice requires a tool call but the request declares no tools');
    }
    return { mode: 'none', tools: [], callPrefixes: [] };
  }
  const call = wrapper.settings.functions.call;
  const callPrefixes = [call.prefix, ...(call.prefixAlternateMatches ?? [])]
    .map((p) => plainTextOf(callSyntax(p)))
    .filter((p): p is string => p !== undefined && p.trim().length > 0);
  if (typeof resolved === 'object') {
    if (!list.some((t) => t.name === resolved.name)) {
      throw new AppError('bad_request', `tool_choice names function "${resolved.name}", which is not among the declared tools`);
    }
    return { mode: 'forced', tools: list, forcedName: resolved.name, callPrefixes };
  }
  if (resolved === 'required') {
    return { mode: 'forced', tools: list, forcedName: list.length === 1 ? list[0]!.name : undefined, callPrefixes };
  }
  return { mode: 'auto', tools: list, callPrefixes };
}

/** The prompt followed by the call prefix, and the function name and params prefix when it is known. */
export function forcedCallText(wrapper: ChatWrapper, prompt: LlamaText, plan: ToolPlan): LlamaText {
  const call = wrapper.settings.functions.call;
  if (plan.forcedName === undefined) return LlamaText([prompt, callSyntax(call.prefix)]);
  return LlamaText([prompt, callSyntax(call.prefix), plan.forcedName, callSyntax(call.paramsPrefix, plan.forcedName)]);
}

export interface CallGeneration {
  model: LlamaModel;
  wrapper: ChatWrapper;
  grammars: GrammarCache;
  seq: Parameters<typeof runTokenLoop>[0]['seq'];
  barrier: Parameters<typeof runTokenLoop>[0]['barrier'];
  evaluate: SequenceEvaluateOptions;
  signal: AbortSignal;
  plan: ToolPlan;
}

export interface CallResult {
  call?: ToolCall;
  end: LoopEnd;
  sampled: number;
  firstTokenAt?: number;
}

/**
 * Generates one call. `input` is what to evaluate first: the rest of a forced prompt, or the
 * last generated token of a detected prefix. `knownName` is set when the name is already in
 * the context; `namePrefix` is name text already generated after a detected prefix.
 */
export async function generateCall(g: CallGeneration, input: Token[], maxTokens: number, knownName?: string, namePrefix = ''): Promise<CallResult> {
  let sampled = 0;
  let firstTokenAt: number | undefined;
  let name = knownName;
  let next = input;
  const evaluate = { ...g.evaluate, yieldEogToken: false, tokenBias: undefined };
  if (name === undefined) {
    const candidates = g.plan.tools.map((t) => t.name).filter((n) => n.startsWith(namePrefix) && n.length > namePrefix.length);
    if (candidates.length === 0) return { end: 'eog', sampled };
    const grammar = await g.grammars.forAlternatives(candidates.map((n) => n.slice(namePrefix.length)));
    const decoder = new TokenTextDecoder(g.model);
    let text = '';
    const loop = await runTokenLoop({
      seq: g.seq, barrier: g.barrier, input: next, maxTokens, signal: g.signal,
      evaluate: { ...evaluate, grammarEvaluationState: g.grammars.newState(grammar) },
      onToken: (t) => ((text += decoder.push(t)), false),
    });
    text += decoder.flush();
    sampled += loop.sampled;
    firstTokenAt = loop.firstTokenAt;
    if (loop.end !== 'eog') return { end: loop.end, sampled, firstTokenAt };
    name = namePrefix + text;
    next = callSyntax(g.wrapper.settings.functions.call.paramsPrefix, name).tokenize(g.model.tokenizer);
    if (next.length === 0) throw new AppError('unsupported', `chat format ${g.wrapper.wrapperName} has no parameters prefix for function calls`);
  }
  if (maxTokens - sampled <= 0) return { end: 'length', sampled, firstTokenAt };
  const tool = g.plan.tools.find((t) => t.name === name);
  if (!tool) throw new AppError('internal', `generated a call to unknown function "${name}"`);
  const grammar = await g.grammars.forJsonSchema(tool.parameters ?? { type: 'object', properties: {} });
  const decoder = new TokenTextDecoder(g.model);
  let args = '';
  const loop = await runTokenLoop({
    seq: g.seq, barrier: g.barrier, input: next, maxTokens: maxTokens - sampled, signal: g.signal,
    evaluate: { ...evaluate, grammarEvaluationState: g.grammars.newState(grammar) },
    onToken: (t) => {
      args += decoder.push(t);
      return args.includes(JSON_GRAMMAR_END);
    },
  });
  args += decoder.flush();
  sampled += loop.sampled;
  firstTokenAt ??= loop.firstTokenAt;
  if (loop.end !== 'eog' && loop.end !== 'stopped') return { end: loop.end, sampled, firstTokenAt };
  return { call: { id: newCallId(), name, arguments: args.trim() }, end: 'eog', sampled, firstTokenAt };
}

function newCallId(): string {
  return `call_${randomBytes(12).toString('hex')}`;
}
