import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChatMLChatWrapper } from '#node-llama-cpp';
import { functionsFor, toChatHistory } from '../../../src/engine/worker/chat-prompt.js';
import type { ChatMessage } from '../../../src/engine/types.js';

const render = (messages: ChatMessage[], withTools = false) =>
  new ChatMLChatWrapper()
    .generateContextState({
      chatHistory: toChatHistory(messages),
      availableFunctions: withTools ? functionsFor([{ name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } }]) : undefined,
      documentFunctionParams: true,
    })
    .contextText.toString();

describe('chat prompt rendering', () => {
  const call = { id: 'call_1', name: 'get_weather', arguments: '{"city":"Rome"}' };
  const history: ChatMessage[] = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Weather in Rome?' },
    { role: 'assistant', content: '', toolCalls: [call] },
    { role: 'tool', content: 'sunny, 24 degrees', toolCallId: 'call_1' },
  ];

  test('an assistant tool call and the tool result that answers it render in the wrapper syntax', () => {
    const text = render(history, true);
    assert.match(text, /get_weather/);
    assert.match(text, /Rome/);
    assert.match(text, /sunny, 24 degrees/);
    assert.match(text, /Weather of a city/, 'the declared tools are documented');
    assert.ok(text.endsWith('<|im_start|>assistant\n'), 'the reply slot follows the tool result');
  });

  test('no default system prompt is added', () => {
    const text = render([{ role: 'user', content: 'Hi' }]);
    assert.doesNotMatch(text, /system/);
    assert.match(text, /<\|im_start\|>user\nHi<\|im_end\|>\n<\|im_start\|>assistant\n$/);
  });

  test('a trailing assistant message is continued rather than closed', () => {
    const text = render([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hel' }]);
    assert.match(text, /<\|im_start\|>assistant\nHel$/);
  });

  test('a tool message that answers no call is kept as user text', () => {
    const items = toChatHistory([{ role: 'user', content: 'x' }, { role: 'tool', content: 'orphan', toolCallId: 'nope' }]);
    assert.deepEqual(items[1], { type: 'user', text: 'orphan' });
  });
});
