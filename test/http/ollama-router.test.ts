import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import type { OllamaCatalogPort, OllamaPullOptions } from '../../src/http/ollama/deps.js';
import { createOllamaRouter } from '../../src/http/ollama/router.js';
import type { ModelService, ProgressEvent } from '../../src/models/index.js';
import { VERSION } from '../../src/version.js';
import { hangUpDuringGeneration, postToAbandon } from './hang-up.js';
import { CHAT_ID, DONE, EMBED_ID, MODELS, type ScriptedDepsOptions, scriptedDeps } from './scripted-deps.js';
import { request, startTestServer } from './socket-client.js';

const servers: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const server of servers) await server.close();
});

const LAYER = `sha256:${'1234567890ab'}${'c'.repeat(52)}`;

interface CatalogScript {
  /** Events the pull reports, in order, before it settles. Defaults to none. */
  pullEvents?: ProgressEvent[];
  /** Thrown by pull after its events. Defaults to none. */
  pullError?: Error;
  /** Resolves once the pull has reported its events and waits for its signal to abort. Defaults to false. */
  pullHangs?: boolean;
}

const notScripted = async (): Promise<never> => {
  throw new Error('not scripted: this file does not exercise this part of the catalog port');
};

/**
 * A catalog port over the scripted model list; it records what the router asked of it. Settings
 * go through the model service over the scripted settings and scheduler.
 */
function scriptedCatalog(models: ModelService, script: CatalogScript = {}) {
  const calls: Array<[string, ...unknown[]]> = [];
  let markPullWaiting!: (signal: AbortSignal) => void;
  const pullWaiting = new Promise<AbortSignal>((resolve) => (markPullWaiting = resolve));
  const find = (name: string) => {
    const model = MODELS.find((m) => m.tags.some((t) => t === name || t === `docker.io/ai/${name}:latest`));
    if (!model) throw new AppError('not_found', `model "${name}" not found`);
    return model;
  };
  const port: OllamaCatalogPort = {
    async pull(from: string, options: OllamaPullOptions) {
      calls.push(['pull', from]);
      for (const event of script.pullEvents ?? []) options.onEvent(event);
      if (script.pullHangs) {
        markPullWaiting(options.signal);
        await new Promise((resolve) => options.signal.addEventListener('abort', resolve, { once: true }));
        throw new AppError('aborted', 'pull aborted');
      }
      if (script.pullError) throw script.pullError;
      return { id: CHAT_ID, cached: false };
    },
    async remove(name) {
      calls.push(['remove', name]);
      return { deletedId: find(name).id };
    },
    async copy(source, destination) {
      calls.push(['copy', source, destination]);
      find(source);
    },
    async unload(name) {
      calls.push(['unload', name]);
      find(name);
    },
    configure: (name, patch) => models.configure(name, 'completion', patch),
    async show(name) {
      calls.push(['show', name]);
      const model = find(name);
      return { model: { ...model, config: { ...model.config, gguf: { 'tokenizer.chat_template': 'use tools', 'llama.block_count': '30' } } }, capabilities: ['completion', 'tools'] };
    },
    // The scripted models carry no extras; create, push and blobs are driven against the real catalog in test/e2e.
    async extras(name) {
      find(name);
      return {};
    },
    hasBlob: notScripted,
    receiveBlob: notScripted,
    create: notScripted,
    push: notScripted,
  };
  return { port, calls, pullWaiting };
}

async function setup(options: ScriptedDepsOptions = {}, catalogScript: CatalogScript = {}) {
  const scripted = scriptedDeps(options);
  const catalog = scriptedCatalog(scripted.deps.models, catalogScript);
  const server = await startTestServer([createOllamaRouter({ ...scripted.deps, catalog: catalog.port })]);
  servers.push(server);
  return { ...scripted, catalog, socketPath: server.socketPath };
}

/** Node sends a DELETE body without a length unless told one; Ollama's clients always send it. */
function deleteRequest(socketPath: string, body: unknown) {
  const text = JSON.stringify(body);
  return request(socketPath, '/api/delete', { method: 'DELETE', headers: { 'Content-Length': String(Buffer.byteLength(text)) }, body: text });
}

function ndjson(text: string): any[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

const FINAL_KEYS = [
  'done',
  'done_reason',
  'eval_count',
  'eval_duration',
  'load_duration',
  'prompt_eval_count',
  'prompt_eval_duration',
  'total_duration',
];

describe('Ollama model routes', () => {
  test('GET /api/version answers the package version and HEAD answers 200 without a body', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/api/version');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { version: VERSION });
    const head = await request(t.socketPath, '/api/version', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
  });

  test('GET /api/tags lists each tag with its display name, size in bytes, bare digest and details', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/api/tags');
    assert.equal(res.status, 200);
    const { models } = res.json();
    assert.deepEqual(
      models.map((m: any) => m.name),
      ['smollm2:latest', 'mxbai-embed:latest'],
    );
    assert.deepEqual(models[0], {
      name: 'smollm2:latest',
      model: 'smollm2:latest',
      modified_at: new Date(MODELS[0]!.created * 1000).toISOString(),
      size: Math.round(256.35 * 1024 * 1024),
      digest: 'a'.repeat(64),
      details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '361.82M', quantization_level: 'Q4_K_M' },
    });
  });

  test('GET /api/ps shows loaded models with memory size, expiry, zero VRAM and context length', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/api/ps');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), {
      models: [
        {
          name: 'smollm2:latest',
          model: 'smollm2:latest',
          size: 123456,
          digest: 'a'.repeat(64),
          details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '361.82M', quantization_level: 'Q4_K_M' },
          expires_at: '2026-01-01T00:05:00.000Z',
          size_vram: 0,
          context_length: 4096,
        },
      ],
    });
  });

  test('POST /api/show answers details, model_info, template and capabilities of the model named by `model` or `name`', async () => {
    const t = await setup();
    for (const body of [{ model: 'smollm2' }, { name: 'smollm2' }]) {
      const res = await request(t.socketPath, '/api/show', { body });
      assert.equal(res.status, 200);
      const show = res.json();
      assert.equal(show.details.family, 'llama');
      assert.deepEqual(show.model_info, { 'llama.block_count': 30 });
      assert.equal(show.template, 'use tools');
      assert.deepEqual(show.capabilities, ['completion', 'tools']);
    }
    assert.deepEqual(t.catalog.calls, [
      ['show', 'smollm2'],
      ['show', 'smollm2'],
    ]);
  });

  test('DELETE /api/delete asks the model service to remove the model (which unloads it) and answers 200 with an empty body', async () => {
    const t = await setup();
    const res = await deleteRequest(t.socketPath, { model: 'smollm2' });
    assert.equal(res.status, 200);
    assert.equal(res.text, '');
    assert.deepEqual(t.catalog.calls, [['remove', 'smollm2']]);
    // The router itself tells the engine nothing: the service's delete does.
    assert.deepEqual(t.unloadRequests, []);
  });

  test('DELETE /api/delete of an unknown model answers 404 with an Ollama error body', async () => {
    const t = await setup();
    const res = await deleteRequest(t.socketPath, { name: 'nope' });
    assert.equal(res.status, 404);
    assert.deepEqual(res.json(), { error: 'model "nope" not found' });
    assert.deepEqual(t.unloadRequests, []);
  });

  test('POST /api/copy tags the source as the destination; a missing destination is a 400', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/api/copy', { body: { source: 'smollm2', destination: 'my-model:v1' } });
    assert.equal(res.status, 200);
    assert.equal(res.text, '');
    assert.deepEqual(t.catalog.calls, [['copy', 'smollm2', 'my-model:v1']]);
    const bad = await request(t.socketPath, '/api/copy', { body: { source: 'smollm2' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json(), { error: 'destination is required' });
  });
});

describe('Ollama pull', () => {
  const events: ProgressEvent[] = [
    { type: 'progress', message: 'Downloaded: 0.00 MB', total: 2048, layer: { id: LAYER, size: 2048, current: 1024 }, mode: 'pull' },
    { type: 'warning', message: 'ignored' },
    { type: 'progress', message: 'Downloaded: 0.00 MB', total: 2048, layer: { id: LAYER, size: 2048, current: 2048 }, mode: 'pull' },
    { type: 'success', message: 'Model pulled successfully', mode: 'pull' },
  ];

  test('a streamed pull maps catalog progress onto Ollama statuses as NDJSON', async () => {
    const t = await setup({}, { pullEvents: events });
    const res = await request(t.socketPath, '/api/pull', { body: { model: 'smollm2' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/x-ndjson');
    assert.deepEqual(ndjson(res.text), [
      { status: 'pulling manifest' },
      { status: 'pulling 1234567890ab', digest: LAYER, total: 2048, completed: 1024 },
      { status: 'pulling 1234567890ab', digest: LAYER, total: 2048, completed: 2048 },
      { status: 'verifying sha256 digest' },
      { status: 'writing manifest' },
      { status: 'success' },
    ]);
    assert.deepEqual(t.catalog.calls, [['pull', 'smollm2']]);
  });

  test('a pull with stream false answers one final success object', async () => {
    const t = await setup({}, { pullEvents: events });
    const res = await request(t.socketPath, '/api/pull', { body: { name: 'smollm2', stream: false } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { status: 'success' });
  });

  test('a pull that fails before any progress answers its own status with an Ollama error body', async () => {
    const t = await setup({}, { pullError: new AppError('unauthorized', 'pull access denied') });
    const res = await request(t.socketPath, '/api/pull', { body: { model: 'private/model' } });
    assert.equal(res.status, 401);
    assert.deepEqual(res.json(), { error: 'pull access denied' });
  });

  test('a pull that fails after progress ends the stream with an error line', async () => {
    const t = await setup({}, { pullEvents: events.slice(0, 1), pullError: new AppError('digest_mismatch', 'layer digest mismatch') });
    const res = await request(t.socketPath, '/api/pull', { body: { model: 'smollm2' } });
    assert.equal(res.status, 200);
    const lines = ndjson(res.text);
    assert.equal(lines[0].status, 'pulling manifest');
    assert.deepEqual(lines.at(-1), { error: 'layer digest mismatch' });
  });

  test('a client that disconnects during a pull aborts the pull signal', { timeout: 20_000 }, async () => {
    const t = await setup({}, { pullEvents: events.slice(0, 1), pullHangs: true });
    const req = postToAbandon(t.socketPath, '/api/pull', { model: 'smollm2' });
    const signal = await t.catalog.pullWaiting;
    assert.equal(signal.aborted, false);
    req.destroy();
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    assert.equal(signal.aborted, true);
  });
});

const chatBody = { model: 'smollm2', messages: [{ role: 'user', content: 'Hi' }] };

describe('Ollama chat and generate', () => {
  test('a chat streams NDJSON message chunks, then a final chunk with reason, counts and nanosecond durations', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/api/chat', { body: chatBody });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/x-ndjson');
    const lines = ndjson(res.text);
    assert.deepEqual(
      lines.slice(0, 2).map((l) => [l.model, l.message, l.done]),
      [
        ['smollm2', { role: 'assistant', content: 'Hello' }, false],
        ['smollm2', { role: 'assistant', content: ' world' }, false],
      ],
    );
    assert.ok(lines.every((l) => !Number.isNaN(Date.parse(l.created_at))));
    const final = lines.at(-1);
    assert.equal(lines.length, 3);
    assert.deepEqual(final.message, { role: 'assistant', content: '' });
    assert.deepEqual(Object.keys(final).filter((k) => FINAL_KEYS.includes(k)).sort(), FINAL_KEYS);
    assert.equal(final.done, true);
    assert.equal(final.done_reason, 'stop');
    assert.equal(final.prompt_eval_count, DONE.usage.promptTokens);
    assert.equal(final.eval_count, DONE.usage.completionTokens);
    assert.equal(final.prompt_eval_duration, DONE.timings.promptMs * 1e6);
    assert.equal(final.eval_duration, DONE.timings.generationMs * 1e6);
    assert.ok(Number.isInteger(final.total_duration) && final.total_duration >= final.load_duration);
    assert.equal(t.acquired[0]!.spec.id, CHAT_ID);
    assert.equal(t.released(), 1);
  });

  test('a chat with stream false answers one object holding the whole message and the final fields', async () => {
    const t = await setup({ script: { events: [{ type: 'text', text: 'Hello world' }, { ...DONE, finishReason: 'length' }] } });
    const res = await request(t.socketPath, '/api/chat', { body: { ...chatBody, stream: false, options: { temperature: 0.2, num_predict: 9 } } });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const body = res.json();
    assert.deepEqual(body.message, { role: 'assistant', content: 'Hello world' });
    assert.equal(body.done, true);
    assert.equal(body.done_reason, 'length');
    assert.equal(body.eval_count, 3);
    assert.deepEqual(t.session.requests[0]!.sampling, { temperature: 0.2, maxTokens: 9 });
  });

  test('tools reach the engine and tool calls come back as message.tool_calls with object arguments', async () => {
    const calls = [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }];
    const t = await setup({ script: { events: [{ type: 'tool_calls', calls }, { ...DONE, finishReason: 'tool_calls' }] } });
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];
    const res = await request(t.socketPath, '/api/chat', { body: { ...chatBody, stream: false, tools } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json().message, {
      role: 'assistant',
      content: '',
      tool_calls: [{ id: 'call_1', function: { index: 0, name: 'get_weather', arguments: { city: 'Paris' } } }],
    });
    assert.equal(res.json().done_reason, 'stop');
    assert.deepEqual(t.session.requests[0]!.kind === 'chat' && t.session.requests[0]!.tools, [{ name: 'get_weather', parameters: { type: 'object' } }]);
  });

  test('generate with format json constrains sampling to JSON and answers the text as `response`', async () => {
    const t = await setup({ script: { events: [{ type: 'text', text: '{"a":1}' }, DONE] } });
    const res = await request(t.socketPath, '/api/generate', { body: { model: 'smollm2', prompt: 'Give JSON', format: 'json', stream: false } });
    assert.equal(res.status, 200);
    const body = res.json();
    assert.equal(body.response, '{"a":1}');
    assert.equal(body.done_reason, 'stop');
    assert.equal(body.model, 'smollm2');
    assert.deepEqual(t.session.requests[0], { kind: 'chat', messages: [{ role: 'user', content: 'Give JSON' }], sampling: { json: true }, thinking: { separate: true, trimAnswerStart: true } });
  });

  test('generate with a JSON schema format passes the schema, and streams `response` chunks', async () => {
    const t = await setup();
    const schema = { type: 'object', properties: { a: { type: 'number' } } };
    const res = await request(t.socketPath, '/api/generate', { body: { model: 'smollm2', prompt: 'x', format: schema, raw: true } });
    assert.equal(res.status, 200);
    const lines = ndjson(res.text);
    assert.deepEqual(
      lines.map((l) => [l.response, l.done]),
      [
        ['Hello', false],
        [' world', false],
        ['', true],
      ],
    );
    assert.deepEqual(t.session.requests[0], { kind: 'completion', prompt: 'x', sampling: { jsonSchema: schema } });
  });

  test('an empty prompt loads the model and answers done_reason load without generating', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/api/generate', { body: { model: 'smollm2', keep_alive: '10m' } });
    assert.equal(res.status, 200);
    assert.deepEqual({ ...(res.json() as object), created_at: undefined }, { model: 'smollm2', created_at: undefined, response: '', done_reason: 'load', done: true });
    assert.deepEqual(
      t.acquired.map((a) => a.keepAlive),
      ['10m'],
    );
    assert.equal(t.released(), 1);
    assert.equal(t.session.requests.length, 0);
  });

  test('empty messages with keep_alive 0 unload the model without loading it', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/api/chat', { body: { model: 'smollm2', messages: [], keep_alive: 0 } });
    assert.equal(res.status, 200);
    const body = res.json();
    assert.equal(body.done_reason, 'unload');
    assert.deepEqual(body.message, { role: 'assistant', content: '' });
    assert.deepEqual(t.catalog.calls, [['unload', 'smollm2']]);
    assert.equal(t.acquired.length, 0);
  });

  test('options.num_ctx is persisted and the model reconfigured only when it differs from the stored size', async () => {
    const t = await setup();
    const body = { ...chatBody, stream: false, options: { num_ctx: 2048 } };
    assert.equal((await request(t.socketPath, '/api/chat', { body })).status, 200);
    assert.equal((await request(t.socketPath, '/api/chat', { body })).status, 200);
    assert.deepEqual(t.storedSettings.get(CHAT_ID), { contextSize: 2048 });
    assert.deepEqual(t.reconfigured, [CHAT_ID]);
    assert.equal(t.acquired[0]!.spec.settings.contextSize, 2048);
  });

  test('a num_ctx of 10^12 or a negative one is a 400 with an Ollama error, as _configure and the CLI refuse it, and nothing is persisted', async () => {
    const t = await setup();
    for (const numCtx of [1e12, -1]) {
      const res = await request(t.socketPath, '/api/chat', { body: { ...chatBody, stream: false, options: { num_ctx: numCtx } } });
      assert.equal(res.status, 400);
      assert.match(res.json().error, /options\.num_ctx must be an integer between 64 and 4194304/);
    }
    assert.equal(t.storedSettings.size, 0);
    assert.equal(t.acquired.length, 0);
  });

  test('a busy model keeps serving when num_ctx changes: the size is saved for its next load', async () => {
    const t = await setup({ reconfigureError: new AppError('conflict', 'model is in use') });
    const res = await request(t.socketPath, '/api/chat', { body: { ...chatBody, stream: false, options: { num_ctx: 1024 } } });
    assert.equal(res.status, 200);
    assert.deepEqual(t.storedSettings.get(CHAT_ID), { contextSize: 1024 });
  });

  test('an unknown model answers 404 with an Ollama error body, on chat and generate alike', async () => {
    const t = await setup();
    for (const [path, body] of [
      ['/api/chat', { ...chatBody, model: 'nope' }],
      ['/api/generate', { model: 'nope', prompt: 'x' }],
    ] as const) {
      const res = await request(t.socketPath, path, { body });
      assert.equal(res.status, 404, path);
      assert.deepEqual(res.json(), { error: 'model "nope" not found' });
    }
    assert.equal(t.acquired.length, 0);
  });

  test('images, a malformed body and scheduler refusals answer Ollama error bodies with their statuses', async () => {
    const t = await setup();
    const images = await request(t.socketPath, '/api/generate', { body: { model: 'smollm2', prompt: 'x', images: ['aGk='] } });
    assert.equal(images.status, 400);
    assert.deepEqual(images.json(), { error: 'images are not supported by this model' });
    const malformed = await request(t.socketPath, '/api/chat', { body: '{"model":' });
    assert.equal(malformed.status, 400);
    assert.match(malformed.json().error, /^invalid request/);
    const busy = await setup({ acquireError: new AppError('busy', 'too many queued requests', { data: { retryAfterSeconds: 3 } }) });
    const refused = await request(busy.socketPath, '/api/chat', { body: chatBody });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['retry-after'], '3');
    assert.deepEqual(refused.json(), { error: 'too many queued requests' });
  });

  test('an engine failure before the first chunk keeps its status; one after it ends the stream with an error line', async () => {
    const early = await setup({ script: { error: new AppError('context_exceeded', 'prompt too long') } });
    const res = await request(early.socketPath, '/api/chat', { body: chatBody });
    assert.equal(res.status, 400);
    assert.deepEqual(res.json(), { error: 'prompt too long' });
    assert.equal(early.released(), 1);

    const late = await setup({ script: { events: [{ type: 'text', text: 'tok' }] } });
    const cut = await request(late.socketPath, '/api/chat', { body: chatBody });
    assert.equal(cut.status, 200);
    const lines = ndjson(cut.text);
    assert.equal(lines[0].message.content, 'tok');
    assert.deepEqual(lines.at(-1), { error: 'the model stopped without reporting the end of the generation' });
    assert.equal(late.released(), 1);
  });

  test('a client that disconnects mid-stream aborts the generation signal and the lease is released', { timeout: 20_000 }, async () => {
    const t = await setup({ script: { events: [{ type: 'text', text: 'tok' }], hang: true } });
    const { abortedBeforeHangUp, signal } = await hangUpDuringGeneration(t, '/api/chat', chatBody);
    assert.equal(abortedBeforeHangUp, false);
    assert.equal(signal.aborted, true);
    assert.equal(t.released(), 1);
  });
});

describe('Ollama embeddings', () => {
  test('POST /api/embed answers normalised vectors with counts and durations', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/api/embed', { body: { model: 'ai/mxbai-embed', input: ['a', 'b'] } });
    assert.equal(res.status, 200);
    const body = res.json();
    assert.equal(body.model, 'ai/mxbai-embed');
    assert.equal(body.embeddings.length, 2);
    for (const vector of body.embeddings) assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-9);
    assert.equal(body.prompt_eval_count, 10);
    assert.ok(Number.isInteger(body.total_duration) && Number.isInteger(body.load_duration));
    assert.equal(t.acquired[0]!.spec.id, EMBED_ID);
    assert.equal(t.acquired[0]!.spec.mode, 'embedding');
    assert.equal(t.released(), 1);
  });

  test('the legacy POST /api/embeddings answers the raw vector of its prompt as `embedding`', async () => {
    const t = await setup();
    const res = await request(t.socketPath, '/api/embeddings', { body: { model: 'ai/mxbai-embed', prompt: 'hello' } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { embedding: [0, 0.5, -1] });
    assert.deepEqual(t.session.embedRequests, [{ inputs: ['hello'] }]);
  });
});
