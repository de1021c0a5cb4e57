import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WorkerModelHandle } from '../../src/engine/model-handle.js';
import type { ChatMessage, ToolDefinition } from '../../src/engine/types.js';
import { collect, doneOf, loadHandle, textOf, tinyModel, type TinyModel } from './support.js';

const weather: ToolDefinition = {
  name: 'get_weather',
  description: 'Current weather of a city',
  parameters: { type: 'object', properties: { city: { enum: ['Paris', 'Rome'] } }, required: ['city'] },
};
const time: ToolDefinition = { name: 'get_time', parameters: { type: 'object', properties: { zone: { enum: ['UTC', 'CET'] } }, required: ['zone'] } };

describe('structured output and tools in a model Worker', () => {
  let model: TinyModel;
  let handle: WorkerModelHandle;
  let embedder: WorkerModelHandle;
  before(async () => {
    model = await tinyModel();
    handle = await loadHandle(model.path);
    embedder = await loadHandle(model.path, { mode: 'embedding', contextSize: 512 });
  });
  after(async () => {
    await handle?.dispose();
    await embedder?.dispose();
    await model?.cleanup();
  });

  test('a JSON-schema response parses and matches the schema', async () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' }, size: { enum: ['s', 'm', 'l'] } }, required: ['ok', 'size'] };
    const events = await collect(handle, { kind: 'chat', messages: [{ role: 'user', content: 'json please' }], sampling: { maxTokens: 200, temperature: 0.7, seed: 5, jsonSchema: schema } });
    assert.equal(doneOf(events).finishReason, 'stop');
    const value = JSON.parse(textOf(events)) as { ok: unknown; size: unknown };
    assert.equal(typeof value.ok, 'boolean');
    assert.ok(['s', 'm', 'l'].includes(value.size as string));
  });

  test('a JSON answer ends when its value closes, though the grammar would let the model pad it with newlines', async () => {
    // An object with nothing to fill closes at once; what the grammar still allows after it is whitespace.
    const events = await collect(handle, { kind: 'chat', messages: [{ role: 'user', content: 'json' }], sampling: { maxTokens: 64, temperature: 0, jsonSchema: { type: 'object', properties: {} } } });
    assert.equal(doneOf(events).finishReason, 'stop', JSON.stringify(textOf(events)));
    assert.deepEqual(JSON.parse(textOf(events)), {});
    assert.ok(!textOf(events).includes('\n\n\n\n'), 'no padding');
  });

  test('JSON mode produces text that parses as JSON', async () => {
    const events = await collect(handle, { kind: 'chat', messages: [{ role: 'user', content: 'json' }], sampling: { maxTokens: 300, temperature: 0, json: true } });
    // Greedy on the tiny model, the grammar closes the value well within the limit.
    assert.equal(doneOf(events).finishReason, 'stop', textOf(events));
    assert.doesNotThrow(() => JSON.parse(textOf(events)));
  });

  test('a forced tool call round trip: the call, then its result in the history', async () => {
    const messages: ChatMessage[] = [{ role: 'user', content: 'Weather in Rome?' }];
    const events = await collect(handle, { kind: 'chat', messages, tools: [weather, time], toolChoice: { name: 'get_weather' }, sampling: { maxTokens: 100, temperature: 0 } });
    const done = doneOf(events);
    assert.equal(done.finishReason, 'tool_calls');
    const callEvent = events.find((e) => e.type === 'tool_calls');
    assert.ok(callEvent?.type === 'tool_calls');
    const [call] = callEvent.calls;
    assert.equal(call?.name, 'get_weather');
    assert.match(call!.id, /^call_/);
    const args = JSON.parse(call!.arguments) as { city: string };
    assert.ok(['Paris', 'Rome'].includes(args.city));

    const result = 'sunny, 24 degrees';
    const called: ChatMessage[] = [...messages, { role: 'assistant', content: '', toolCalls: [call!] }];
    const answered = [...called, { role: 'tool' as const, content: result, toolCallId: call!.id }];
    const ask = (history: ChatMessage[]) =>
      collect(handle, { kind: 'chat', messages: history, tools: [weather, time], toolChoice: 'none', sampling: { maxTokens: 1, temperature: 0 } });
    const withResult = doneOf(await ask(answered));
    const withoutResult = doneOf(await ask(called));
    // The result rendered into the prompt (in place of an empty result); the exact text is checked in the unit tests.
    assert.ok(withResult.usage.promptTokens > withoutResult.usage.promptTokens, `${withResult.usage.promptTokens} vs ${withoutResult.usage.promptTokens}`);
    assert.ok((withResult.usage.cachedTokens ?? 0) > 0, 'the shared history prefix comes from the cache');
    assert.notEqual(withResult.finishReason, 'tool_calls');
  });

  test("'required' with several tools calls one of the declared functions", async () => {
    const events = await collect(handle, { kind: 'chat', messages: [{ role: 'user', content: 'Anything' }], tools: [weather, time], toolChoice: 'required', sampling: { maxTokens: 100, temperature: 0.9, seed: 3 } });
    assert.equal(doneOf(events).finishReason, 'tool_calls');
    const call = events.flatMap((e) => (e.type === 'tool_calls' ? e.calls : []))[0];
    assert.ok(call && ['get_weather', 'get_time'].includes(call.name));
    assert.doesNotThrow(() => JSON.parse(call.arguments));
  });

  test('embeddings return one vector per input with the width of the model', async () => {
    const result = await embedder.embed({ inputs: ['hello world', 'another text'] });
    assert.equal(result.vectors.length, 2);
    assert.ok(result.vectors.every((v) => v.length === embedder.info!.embeddingSize));
    assert.equal(embedder.info!.embeddingSize, 64);
    assert.ok(result.promptTokens > 0);
    assert.notDeepEqual(result.vectors[0], result.vectors[1]);
  });

  test('a completion-mode model refuses embeddings with a clear error', async () => {
    await assert.rejects(handle.embed({ inputs: ['x'] }), /load it in embedding mode/);
  });
});
