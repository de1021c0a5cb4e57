/**
 * Renders a chat request into prompt tokens with the model's chat wrapper (resolved once per
 * model), without any default system prompt. Assistant tool calls and the tool messages that
 * answer them become node-llama-cpp function-call items, so a tool round trip renders the way
 * the wrapper formats function calls and results.
 */
import {
  LlamaText,
  SpecialTokensText,
  type ChatHistoryItem,
  type ChatModelFunctionCall,
  type ChatModelFunctions,
  type ChatModelResponse,
  type ChatWrapper,
  type LlamaModel,
  type Token,
} from '#node-llama-cpp';
import { AppError } from '../../errors.js';
import type { ChatMessage, ThinkingOptions, ToolDefinition } from '../types.js';
import { renderWithBudget } from './chat-wrapper.js';
import { thoughtSectionOf, type ThoughtSection } from './thought-section.js';

export interface RenderedChat {
  /** The rendered conversation, ending where the assistant's reply starts. */
  text: LlamaText;
  tokens: Token[];
  /** Wrapper stop triggers that are plain text (matched on the decoded output). */
  textStops: string[];
  /** Wrapper stop triggers that contain special tokens (matched on token ids). */
  tokenStops: Token[][];
  /** The reply's thinking section, when the template has one and the reply may think in it. */
  thought?: { section: ThoughtSection; openedInPrompt: boolean };
}

export function renderChat(
  model: LlamaModel,
  wrapper: ChatWrapper,
  messages: readonly ChatMessage[],
  functions: ChatModelFunctions | undefined,
  thinking: ThinkingOptions = {},
): RenderedChat {
  if (messages.length === 0) throw new AppError('bad_request', 'a chat request needs at least one message');
  const section = thoughtSectionOf(wrapper);
  if (thinking.required && !section) throw new AppError('bad_request', 'the model does not support thinking', { data: { unsupported: 'thinking' } });
  const history = toChatHistory(messages);
  const state = renderWithBudget(wrapper, () =>
    wrapper.generateContextState({ chatHistory: history, availableFunctions: functions, documentFunctionParams: true }),
  );
  // The wrapper renders the reply slot as an empty assistant turn; a template that opens (or, off,
  // closes) the thinking section in its generation prompt gets that written here, as llama-server
  // renders it. A prefilled reply is continued as it is.
  const replying = history[history.length - 1]?.type === 'model' && (history[history.length - 1] as ChatModelResponse).response.length === 0;
  let contextText = state.contextText;
  let thought: RenderedChat['thought'];
  // Markers made of control tokens (gpt-oss's channels) never show in the decoded text: such a
  // section is neither split nor switched off here, and the reply goes out as generated.
  if (section && replying && markersShowInText(model, section)) {
    if (thinking.enabled === false) contextText = LlamaText([contextText, section.emptyText]);
    else {
      if (section.openInPrompt) contextText = LlamaText([contextText, section.openText]);
      thought = { section, openedInPrompt: section.openInPrompt };
    }
  }
  const textStops: string[] = [];
  const tokenStops: Token[][] = [];
  for (const trigger of state.stopGenerationTriggers) {
    if (trigger.values.every((v) => typeof v === 'string')) textStops.push(trigger.values.join(''));
    else {
      const tokens = trigger.tokenize(model.tokenizer);
      if (tokens.length > 0) tokenStops.push(tokens);
    }
  }
  return { text: contextText, tokens: contextText.tokenize(model.tokenizer), textStops, tokenStops, ...(thought ? { thought } : {}) };
}

/** Whether the close marker decodes back to itself (user-defined tokens do, control tokens decode to nothing). */
function markersShowInText(model: LlamaModel, section: ThoughtSection): boolean {
  const close = section.markers.close.trim();
  return model.detokenize(model.tokenize(close, true), false) === close;
}

/** node-llama-cpp's description of the tools, or undefined when there are none. */
export function functionsFor(tools: readonly ToolDefinition[] | undefined): ChatModelFunctions | undefined {
  if (!tools || tools.length === 0) return undefined;
  const functions: Record<string, ChatModelFunctions[string]> = {};
  for (const tool of tools) {
    functions[tool.name] = { description: tool.description, params: tool.parameters as ChatModelFunctions[string]['params'] };
  }
  return functions;
}

/**
 * OpenAI history -> node-llama-cpp history. The reply slot is an empty model item at the end,
 * unless the last message is an assistant message without calls: then it is a prefix the
 * model continues (llama-server's assistant prefill).
 */
export function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const results = new Map<string, string>();
  for (const m of messages) if (m.role === 'tool' && m.toolCallId !== undefined) results.set(m.toolCallId, m.content);
  const answered = new Set<string>();
  const history: ChatHistoryItem[] = [];
  for (const m of messages) {
    if (m.role === 'system') history.push({ type: 'system', text: m.content });
    else if (m.role === 'user') history.push({ type: 'user', text: m.content });
    else if (m.role === 'assistant') {
      const response: ChatModelResponse['response'] = [];
      if (m.content) response.push(m.content);
      for (const call of m.toolCalls ?? []) {
        const item: ChatModelFunctionCall = { type: 'functionCall', name: call.name, params: parseArguments(call.arguments), result: results.get(call.id) };
        if (results.has(call.id)) answered.add(call.id);
        response.push(item);
      }
      appendModel(history, response);
    } else if (!(m.toolCallId !== undefined && answered.has(m.toolCallId))) {
      // A tool result that answers no call in the history: keep its content rather than drop it.
      history.push({ type: 'user', text: m.content });
    }
  }
  const last = messages[messages.length - 1]!;
  const continues = last.role === 'assistant' && (last.toolCalls ?? []).length === 0;
  if (!continues) history.push({ type: 'model', response: [] });
  return history;
}

function appendModel(history: ChatHistoryItem[], response: ChatModelResponse['response']): void {
  const previous = history[history.length - 1];
  // Consecutive assistant messages (calls, then the answer after the results) are one model turn.
  if (previous?.type === 'model') previous.response.push(...response);
  else history.push({ type: 'model', response });
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * A piece of the wrapper's function-call syntax as LlamaText with `{{functionName}}` filled in.
 * Template parameters are replaced only in plain and special-tokens text, as node-llama-cpp does.
 */
export function callSyntax(value: string | LlamaText, name = ''): LlamaText {
  return LlamaText(value).mapValues((v) => {
    if (typeof v === 'string') return v.replaceAll('{{functionName}}', name);
    if (v instanceof SpecialTokensText) return new SpecialTokensText(v.value.replaceAll('{{functionName}}', name));
    return v;
  });
}

/** The syntax as the text the model would emit, or undefined when it contains builtin special tokens (BOS, EOS...). */
export function plainTextOf(value: LlamaText): string | undefined {
  const parts: string[] = [];
  for (const v of value.values) {
    if (typeof v === 'string') parts.push(v);
    else if (v instanceof SpecialTokensText) parts.push(v.value);
    else return undefined;
  }
  return parts.join('');
}
