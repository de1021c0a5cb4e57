import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GenerateEvent } from '../../../src/engine/types.js';
import { parseResponsesRequest } from '../../../src/responses/request.js';
import { buildResponse, outputItems, type ResponseHead } from '../../../src/responses/response.js';
import { ResponseEventStream } from '../../../src/responses/stream-events.js';

const HEAD: ResponseHead = {
  id: 'resp_1',
  createdAt: 1,
  model: 'ai/demo',
  previousResponseId: null,
  instructions: null,
  store: true,
  echo: parseResponsesRequest({ model: 'ai/demo', input: 'x' }).echo,
};
const DONE: GenerateEvent = { type: 'done', finishReason: 'stop', usage: { promptTokens: 5, completionTokens: 2 }, timings: {} as never };

function run(events: GenerateEvent[]) {
  const stream = new ResponseEventStream(HEAD);
  const frames = [...stream.start(), ...events.flatMap((e) => stream.push(e))];
  return { stream, frames };
}

describe('ResponseEventStream', () => {
  test('text streams as one message item in the order the SDK accumulator requires, numbered from 0', () => {
    const { frames, stream } = run([{ type: 'text', text: 'He' }, { type: 'text', text: 'llo' }, DONE]);
    assert.deepEqual(
      frames.map((f) => f.type),
      [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ],
    );
    assert.deepEqual(frames.map((f) => f.sequence_number), frames.map((_, i) => i));
    assert.equal(frames[6]!.text, 'Hello');
    const final = frames.at(-1)!.response as { status: string; output: Array<{ id: string; content: Array<{ text: string }> }>; usage: { total_tokens: number } };
    assert.equal(final.status, 'completed');
    assert.equal(final.output[0]!.content[0]!.text, 'Hello');
    assert.equal(final.output[0]!.id, frames[2]!.item && (frames[2]!.item as { id: string }).id);
    assert.equal(final.usage.total_tokens, 7);
    assert.equal(stream.final, final);
  });

  test('thinking streams as a reasoning item of reasoning_text deltas, closed before the message opens', () => {
    const { frames } = run([{ type: 'thinking', text: 'Hm' }, { type: 'thinking', text: 'm.' }, { type: 'text', text: 'Hi' }, DONE]);
    assert.deepEqual(
      frames.slice(2, 9).map((f) => [f.type, f.output_index]),
      [
        ['response.output_item.added', 0],
        ['response.content_part.added', 0],
        ['response.reasoning_text.delta', 0],
        ['response.reasoning_text.delta', 0],
        ['response.reasoning_text.done', 0],
        ['response.content_part.done', 0],
        ['response.output_item.done', 0],
      ],
    );
    assert.equal(frames[9]!.type, 'response.output_item.added');
    assert.equal(frames[9]!.output_index, 1);
    const final = frames.at(-1)!.response as { output: Array<{ type: string; content: unknown[] }> };
    assert.deepEqual(final.output.map((item) => item.type), ['reasoning', 'message']);
    assert.deepEqual(final.output[0]!.content, [{ type: 'reasoning_text', text: 'Hmm.' }]);
  });

  test('a tool call closes the open message and streams as a function_call item with its arguments', () => {
    const call = { id: 'call_1', name: 'f', arguments: '{"a":1}' };
    const { frames } = run([{ type: 'text', text: 'x' }, { type: 'tool_calls', calls: [call] }, { ...DONE, finishReason: 'tool_calls' } as GenerateEvent]);
    const types = frames.map((f) => f.type);
    assert.deepEqual(types.slice(8), [
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    assert.equal(frames[8]!.output_index, 1);
    assert.deepEqual((frames[11]!.item as { call_id: string; arguments: string }).arguments, '{"a":1}');
  });

  test('a generation cut by the token limit ends with response.incomplete', () => {
    const { frames } = run([{ type: 'text', text: 'x' }, { ...DONE, finishReason: 'length' } as GenerateEvent]);
    const last = frames.at(-1)!;
    assert.equal(last.type, 'response.incomplete');
    assert.deepEqual((last.response as { incomplete_details: unknown }).incomplete_details, { reason: 'max_output_tokens' });
  });

  test('a generation with no output still answers with one empty message', () => {
    const { frames } = run([DONE]);
    assert.equal(frames[2]!.type, 'response.output_item.added');
    assert.equal((frames.at(-1)!.response as { output: unknown[] }).output.length, 1);
  });
});

describe('buildResponse', () => {
  test('the JSON form carries the message then the calls, and usage in the Responses wording', () => {
    const output = outputItems('Hi', [{ id: 'call_1', name: 'f', arguments: '{}' }], 'completed');
    const response = buildResponse(HEAD, 'completed', output, { promptTokens: 3, completionTokens: 4, cachedTokens: 1 });
    assert.deepEqual(output.map((o) => o.type), ['message', 'function_call']);
    assert.deepEqual(response.usage, {
      input_tokens: 3,
      input_tokens_details: { cached_tokens: 1 },
      output_tokens: 4,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 7,
    });
    assert.equal(response.object, 'response');
  });
});
