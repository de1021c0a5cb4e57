/**
 * The tokenizer on its own, as llama-server's /tokenize and /detokenize expose it: text to token
 * IDs (special-token text parsed, the BOS added on request) and back.
 */
import { type LlamaModel, type LlamaText, SpecialToken, SpecialTokensText, type Token } from '#node-llama-cpp';
import { AppError } from '../../errors.js';
import type { TokensRequest, TokensResult } from '../types.js';
import { renderChat } from './chat-prompt.js';
import type { LoadedModel } from './load.js';

export function runTokens(loaded: LoadedModel, request: TokensRequest): TokensResult {
  const { model } = loaded;
  if (request.op === 'props') {
    const template = model.fileInfo.metadata?.tokenizer?.chat_template;
    return { chatTemplate: typeof template === 'string' ? template : '' };
  }
  if (request.op === 'apply-template') {
    // The same rendering the chat route evaluates (without tools); special tokens stay as their text.
    return { prompt: promptText(model, renderChat(model, loaded.chatWrapper, request.messages, undefined).text) };
  }
  if (request.op === 'detokenize') {
    const limit = loaded.info.vocabularySize;
    const bad = request.tokens.find((t) => !Number.isInteger(t) || t < 0 || t >= limit);
    if (bad !== undefined) throw new AppError('bad_request', `token ${bad} is not in the model's vocabulary (0..${limit - 1})`, { data: { param: 'tokens' } });
    return { content: model.detokenize(request.tokens as Token[], true) };
  }
  // llama-server parses special-token text in the content (its tokenize_mixed with parse_special).
  const tokens = model.tokenize(request.text, true).map(Number);
  const bos = model.tokens.bos;
  if (request.addSpecial && bos !== null && model.tokens.shouldPrependBosToken) tokens.unshift(Number(bos));
  if (!request.withPieces) return { tokens };
  return { tokens, pieces: tokens.map((t) => model.detokenize([t as Token], true)) };
}

/**
 * The rendered prompt as text that tokenizes (special tokens parsed) to what the chat route
 * evaluates. LlamaText's own toString names a builtin token ("BOS") instead of giving its text, so
 * builtin tokens are spelled out through the vocabulary.
 */
function promptText(model: LlamaModel, text: LlamaText): string {
  return text.values
    .map((value) => {
      if (typeof value === 'string') return value;
      if (value instanceof SpecialTokensText) return value.value;
      if (value instanceof SpecialToken) return model.detokenize(value.tokenize(model.tokenizer), true);
      return '';
    })
    .join('');
}
