/**
 * GET /engines/requests: the last inference requests per model, as Docker Model Runner's request
 * recorder lists them. Two real servers on the demo model: one at the defaults (no bodies kept),
 * one with --record-request-bodies and a history of two per model.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDemoServer } from '../support/demo-server.js';
import { runCliOk, type ServerProcess } from '../support/server-harness.js';

const DEMO = 'ai/demo';
const chat = (content: string) => ({ model: DEMO, messages: [{ role: 'user', content }], max_tokens: 4 });

interface Listed {
  model: string;
  count: number;
  records: Array<Record<string, unknown> & { usage?: { prompt_tokens: number; completion_tokens: number } }>;
}

describe('the request history', () => {
  let plain: ServerProcess;
  let recording: ServerProcess;

  before(async () => {
    ({ server: plain } = await startDemoServer({ args: ['--threads', '1', '--parallel', '1'] }));
    ({ server: recording } = await startDemoServer({ args: ['--threads', '1', '--parallel', '1', '--record-request-bodies', '--request-history', '2'] }));
  });
  after(async () => {
    await plain?.dispose();
    await recording?.dispose();
  });

  test('lists each inference request with its route, status, tokens and timings, newest first, and no bodies by default', async () => {
    const ok = await plain.request('/engines/v1/chat/completions', { body: chat('Hello'), headers: { authorization: 'Bearer secret-token', 'user-agent': 'history-test' } });
    assert.equal(ok.status, 200, ok.text);
    const missing = await plain.request('/engines/v1/chat/completions', { body: { ...chat('Hi'), model: 'ai/missing' } });
    assert.equal(missing.status, 404);
    const listed = (await plain.request('/engines/requests')).json<Listed[]>();
    assert.deepEqual(listed.map((l) => [l.model, l.count]), [[DEMO, 1], ['ai/missing', 1]].sort());
    const record = listed.find((l) => l.model === DEMO)!.records[0]!;
    assert.equal(record.method, 'POST');
    assert.equal(record.url, '/engines/v1/chat/completions');
    assert.equal(record.status_code, 200);
    assert.equal(record.user_agent, 'history-test');
    const usage = ok.json<{ usage: { prompt_tokens: number; completion_tokens: number } }>().usage;
    assert.deepEqual([record.usage?.prompt_tokens, record.usage?.completion_tokens], [usage.prompt_tokens, usage.completion_tokens]);
    assert.equal(typeof record.ttft_ms, 'number');
    assert.equal(record.request, undefined);
    assert.equal(record.response, undefined);
    assert.doesNotMatch(JSON.stringify(listed), /secret-token/);
    assert.equal(listed.find((l) => l.model === 'ai/missing')!.records[0]!.status_code, 404);
    assert.deepEqual((await plain.request(`/engines/requests?model=${encodeURIComponent(DEMO)}`)).json<Listed[]>().map((l) => l.model), [DEMO]);

    const table = (await runCliOk(['requests', '--socket', plain.socketPath, '--model', DEMO])).stdout;
    assert.match(table, /POST \/engines\/v1\/chat\/completions/);
    assert.match(table, new RegExp(`${usage.prompt_tokens} / ${usage.completion_tokens}`));
    assert.doesNotMatch(table, /ai\/missing/);
  });

  test('with bodies recorded it keeps the request and the answer but never a header, and only the last N per model', async () => {
    for (const content of ['first', 'second', 'third']) {
      const reply = await recording.request('/engines/v1/chat/completions', { body: chat(content), headers: { authorization: 'Bearer secret-token' } });
      assert.equal(reply.status, 200, reply.text);
    }
    const ollama = await recording.request('/api/chat', { body: { model: DEMO, messages: [{ role: 'user', content: 'fourth' }], stream: false, options: { num_predict: 2 } } });
    assert.equal(ollama.status, 200, ollama.text);
    const [entry] = (await recording.request('/engines/requests')).json<Listed[]>();
    assert.equal(entry!.count, 2, 'two per model');
    assert.deepEqual(entry!.records.map((r) => r.url), ['/api/chat', '/engines/v1/chat/completions']);
    const [latest, previous] = entry!.records;
    assert.match(String(latest!.request), /"fourth"/);
    assert.match(String(latest!.response), /"done":true/);
    assert.match(String(previous!.request), /"third"/);
    assert.match(String(previous!.response), /"chat\.completion"/);
    assert.doesNotMatch(JSON.stringify(entry), /secret-token/);
  });
});
