/**
 * Ollama's API in the compiled server, against its real catalog, real Workers and a real
 * docker-registry: what an Ollama client sees from /api/tags, /api/show, /api/chat,
 * /api/generate, /api/embed, /api/ps, /api/pull, /api/copy and /api/delete on tiny generated
 * models. One server for the whole file; the tests run in order and later ones use what earlier
 * ones pulled or loaded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startRegistry, type TestRegistry } from '../support/registry-harness.js';
import { startDemoServer } from '../support/demo-server.js';
import { type ServerProcess } from '../support/server-harness.js';
import { parseNdjson, type Reply } from '../support/http-client.js';
import { generateTinyGguf, packageAndPush } from './support/fixtures.js';

const DEMO = 'ai/demo';
const MESSAGES = [{ role: 'user', content: 'Hello, how are you?' }];
/** Greedy and bounded: the same request gives the same text, streamed or not. */
const OPTIONS = { temperature: 0, num_predict: 6 };

interface Details {
  format: string;
  family: string;
  parameter_size: string;
  quantization_level: string;
}
interface TagEntry {
  name: string;
  model: string;
  size: number;
  digest: string;
  details: Details;
}
interface Final {
  done: true;
  done_reason: string;
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  eval_count: number;
  eval_duration: number;
}

function assertOllamaError(reply: Reply, status: number, message: RegExp): void {
  assert.equal(reply.status, status, reply.text);
  const { error } = reply.json() as { error: string };
  assert.match(error, message);
}

/**
 * Counts and durations of a final chunk: whole numbers, nanoseconds, and as many tokens as were
 * asked for unless the model chose to stop (Ollama has no way to ignore end-of-generation).
 */
function assertFinal(final: Final, numPredict: number): void {
  assert.equal(final.done, true);
  assert.ok(['length', 'stop'].includes(final.done_reason), final.done_reason);
  if (final.done_reason === 'length') assert.equal(final.eval_count, numPredict);
  else assert.ok(final.eval_count >= 1 && final.eval_count <= numPredict, JSON.stringify(final));
  assert.ok(final.prompt_eval_count > 0);
  for (const key of ['total_duration', 'load_duration', 'eval_duration'] as const) assert.ok(Number.isInteger(final[key]), `${key} is a whole number of nanoseconds`);
  assert.ok(final.total_duration >= final.eval_duration && final.eval_duration > 0, JSON.stringify(final));
}

describe("Ollama's API in the compiled server, on real models", () => {
  let registry: TestRegistry;
  let server: ServerProcess;
  /** ai/demo's ID without "sha256:", which Ollama calls its digest. */
  let demoDigest: string;
  let pulled: string;

  const tags = async () => ((await server.request('/api/tags')).json() as { models: TagEntry[] }).models;

  before(async () => {
    registry = await startRegistry('anonymous');
    pulled = registry.reference('ai/pulled', 'v1');
    const demo = await startDemoServer({
      args: ['--threads', '2', '--max-loaded-models', '2', '--parallel', '1', '--context-size', '2048', '--log-level', 'warn'],
      prepare: async ({ dir }) => packageAndPush(await generateTinyGguf(dir, 5), pulled),
    });
    server = demo.server;
    demoDigest = demo.demoId.replace(/^sha256:/, '');
  });

  after(async () => {
    const code = await server?.dispose();
    await registry?.stop();
    assert.equal(code, 0, `the server exits cleanly on SIGTERM after the whole file:\n${server?.output()}`);
  });

  test('GET /api/tags lists the stored model under its Ollama name with its digest, size and GGUF details', async () => {
    const models = await tags();
    assert.equal(models.length, 1, JSON.stringify(models));
    const [demo] = models;
    // Docker's default registry and ai/ namespace are left out, as Ollama shows its library's models.
    assert.equal(demo!.name, 'demo:latest');
    assert.equal(demo!.model, 'demo:latest');
    assert.equal(demo!.digest, demoDigest);
    assert.ok(demo!.size > 0);
    assert.equal(demo!.details.format, 'gguf');
    assert.equal(demo!.details.family, 'llama');
    assert.equal(demo!.details.quantization_level, 'Q8_0');
  });

  test('POST /api/show describes the model, named as /api/tags shows it, from its GGUF: architecture, sizes, template and capabilities', async () => {
    const reply = await server.request('/api/show', { body: { model: 'demo:latest' } });
    assert.equal(reply.status, 200, reply.text);
    const show = reply.json() as { details: Details; model_info: Record<string, unknown>; template: string; capabilities: string[] };
    assert.equal(show.details.family, 'llama');
    assert.equal(show.model_info['general.architecture'], 'llama');
    assert.equal(show.model_info['llama.embedding_length'], 64);
    assert.ok(show.capabilities.includes('completion'), JSON.stringify(show.capabilities));
    assert.equal(typeof show.template, 'string');
    assertOllamaError(await server.request('/api/show', { body: { model: 'ai/absent' } }), 404, /ai\/absent/);
  });

  test('POST /api/chat streams NDJSON message chunks and a final chunk whose counts match, with the same text as stream false', async () => {
    const whole = await server.request('/api/chat', { body: { model: DEMO, messages: MESSAGES, options: OPTIONS, stream: false } });
    assert.equal(whole.status, 200, whole.text);
    const answer = whole.json() as Final & { model: string; message: { role: string; content: string } };
    assert.equal(answer.model, DEMO);
    assert.equal(answer.message.role, 'assistant');
    assertFinal(answer, OPTIONS.num_predict);

    const streamed = await server.request('/api/chat', { body: { model: DEMO, messages: MESSAGES, options: OPTIONS } });
    assert.equal(streamed.status, 200, streamed.text);
    assert.equal(streamed.headers['content-type'], 'application/x-ndjson');
    const chunks = parseNdjson<{ done: boolean; message: { role: string; content: string } }>(streamed);
    assert.ok(chunks.length >= 2, streamed.text);
    assert.ok(chunks.slice(0, -1).every((c) => c.done === false && c.message.role === 'assistant'));
    assertFinal(chunks.at(-1) as unknown as Final, OPTIONS.num_predict);
    assert.equal(chunks.map((c) => c.message.content).join(''), answer.message.content);
  });

  test('POST /api/generate answers a raw prompt as `response`, streamed or whole', async () => {
    const body = { model: DEMO, prompt: 'Once upon a time', options: OPTIONS };
    const whole = await server.request('/api/generate', { body: { ...body, stream: false } });
    assert.equal(whole.status, 200, whole.text);
    const answer = whole.json() as Final & { response: string };
    assert.ok(answer.response.length > 0);
    assertFinal(answer, OPTIONS.num_predict);
    const streamed = parseNdjson<{ response: string }>(await server.request('/api/generate', { body }));
    assert.equal(streamed.map((c) => c.response).join(''), answer.response);
    assertFinal(streamed.at(-1) as unknown as Final, OPTIONS.num_predict);
  });

  test('POST /api/embed answers one unit-length vector per input, as wide as the model', async () => {
    const reply = await server.request('/api/embed', { body: { model: DEMO, input: ['hello world', 'something else'] } });
    assert.equal(reply.status, 200, reply.text);
    const body = reply.json() as { model: string; embeddings: number[][]; prompt_eval_count: number };
    assert.equal(body.embeddings.length, 2);
    for (const vector of body.embeddings) {
      assert.equal(vector.length, 64);
      const norm = Math.hypot(...vector);
      assert.ok(Math.abs(norm - 1) < 1e-3, `norm ${norm}`);
    }
    assert.notDeepEqual(body.embeddings[0], body.embeddings[1]);
    assert.ok(body.prompt_eval_count > 0);
  });

  test('GET /api/ps lists the loaded model with its digest, context length, expiry and no VRAM', async () => {
    const { models } = (await server.request('/api/ps')).json() as { models: Array<TagEntry & { expires_at: string; size_vram: number; context_length: number }> };
    const demo = models.find((m) => m.name === 'demo:latest');
    assert.ok(demo, JSON.stringify(models));
    assert.equal(demo.digest, demoDigest);
    assert.equal(demo.context_length, 2048);
    assert.equal(demo.size_vram, 0);
    assert.ok(demo.size > 0);
    assert.ok(Date.parse(demo.expires_at) > 0, demo.expires_at);
  });

  test('POST /api/pull from a registry streams Ollama statuses to success, and the pulled model chats', async () => {
    const reply = await server.request('/api/pull', { body: { model: pulled } });
    assert.equal(reply.status, 200, reply.text);
    const statuses = parseNdjson<{ status?: string; error?: string; digest?: string; total?: number; completed?: number }>(reply);
    assert.equal(statuses[0]?.status, 'pulling manifest');
    assert.ok(statuses.some((s) => s.digest !== undefined && s.completed === s.total), reply.text);
    assert.deepEqual(statuses.filter((s) => s.error !== undefined), []);
    assert.equal(statuses.at(-1)?.status, 'success');
    assert.ok((await tags()).some((m) => m.name === `${pulled}`), 'the pulled model is listed under its reference');

    const again = await server.request('/api/pull', { body: { model: pulled, stream: false } });
    assert.deepEqual(again.json(), { status: 'success' });
    const chat = await server.request('/api/chat', { body: { model: pulled, messages: MESSAGES, options: OPTIONS, stream: false } });
    assert.equal(chat.status, 200, chat.text);
    assertFinal(chat.json() as Final, OPTIONS.num_predict);
  });

  test('POST /api/copy gives the model a second name with the same digest, and DELETE /api/delete removes only that name', async () => {
    const source = (await tags()).find((m) => m.name === pulled)!;
    const copied = await server.request('/api/copy', { body: { source: pulled, destination: 'ai/copy:v2' } });
    assert.equal(copied.status, 200, copied.text);
    const copy = (await tags()).find((m) => m.name === 'copy:v2');
    assert.equal(copy?.digest, source.digest);

    const removed = await server.request('/api/delete', { method: 'DELETE', body: { model: 'ai/copy:v2' } });
    assert.equal(removed.status, 200, removed.text || 'no body');
    const names = (await tags()).map((m) => m.name);
    assert.ok(!names.includes('copy:v2') && names.includes(pulled), names.join(', '));
    assertOllamaError(await server.request('/api/delete', { method: 'DELETE', body: { model: 'ai/copy:v2' } }), 404, /ai\/copy:v2/);
  });

  test('an unknown model is a 404 with an Ollama error body on chat, generate and embed alike', async () => {
    for (const [route, body] of [
      ['/api/chat', { messages: MESSAGES }],
      ['/api/generate', { prompt: 'x' }],
      ['/api/embed', { input: 'x' }],
    ] as const) {
      assertOllamaError(await server.request(route, { body: { model: 'ai/absent', ...body } }), 404, /ai\/absent/);
    }
  });
});
