/**
 * `ollama create` and `ollama push` against the compiled server, driven by the official `ollama`
 * client (which does not upload blobs itself: the test sends the GGUF to /api/blobs first, as the
 * Ollama CLI does), with a real docker-registry to push to. One server for the whole file; the
 * tests run in order and later ones use the models earlier ones created.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Ollama } from 'ollama';
import { startRegistry, type TestRegistry } from '../support/registry-harness.js';
import { ollamaClient } from '../support/sdk-clients.js';
import { type ServerProcess, startServer } from '../support/server-harness.js';
import { generateTinyGguf, sha256OfBytes } from './support/fixtures.js';

const CREATED = 'tiny-created';
const SYSTEM = 'You are a terse assistant who answers in one word.';
const PARAMETERS = { temperature: 0, top_k: 1, num_ctx: 1024, stop: ['<|end|>'] };
const HI = [{ role: 'user', content: 'Hi there' }];
const OLLAMA_SYSTEM = 'application/vnd.ollama.image.system';
const DOCKER_GGUF = 'application/vnd.docker.ai.gguf.v3';

/** The `error` text and HTTP status a client call was refused with. */
async function refusal(call: Promise<unknown>): Promise<{ status: number; error: string }> {
  try {
    await call;
  } catch (err) {
    const { status_code: status, error } = err as { status_code: number; error: string };
    return { status, error };
  }
  throw new Error('the call succeeded where a refusal was expected');
}

describe('ollama create and push through the official client, on the compiled server and a real registry', () => {
  let registry: TestRegistry;
  let server: ServerProcess;
  let client: Ollama;
  let gguf: Buffer;
  let digest: string;

  before(async () => {
    registry = await startRegistry('anonymous');
    server = await startServer(
      // No --context-size: a server-wide size would take precedence over the one a model is created with.
      { args: ['--port', '0', '--threads', '2', '--max-loaded-models', '2', '--parallel', '1'] },
      async ({ dir }) => {
        gguf = await fs.readFile(await generateTinyGguf(dir, 13));
      },
    );
    digest = sha256OfBytes(gguf);
    client = ollamaClient(server);
  });

  after(async () => {
    const code = await server?.dispose();
    await registry?.stop();
    assert.equal(code, 0, `the server exits cleanly on SIGTERM after the whole file:\n${server?.output()}`);
  });

  test('a blob whose bytes do not hash to the digest in the path is refused with both digests named, and nothing is stored', async () => {
    const wrong = sha256OfBytes('other bytes');
    const upload = await server.request(`/api/blobs/${wrong}`, { method: 'POST', body: gguf });
    assert.equal(upload.status, 400, upload.text);
    const { error } = upload.json() as { error: string };
    assert.match(error, /digest mismatch/);
    assert.ok(error.includes(wrong) && error.includes(digest), error);
    assert.equal((await server.request(`/api/blobs/${wrong}`, { method: 'HEAD' })).status, 404);
    assert.equal((await server.request(`/api/blobs/${digest}`, { method: 'HEAD' })).status, 404);
    const malformed = await server.request('/api/blobs/sha256:xyz', { method: 'HEAD' });
    assert.equal(malformed.status, 400);
  });

  test('a GGUF uploaded to /api/blobs is stored under its digest: 201, then HEAD finds it and a second upload is a 200', async () => {
    const upload = await server.request(`/api/blobs/${digest}`, { method: 'POST', body: gguf });
    assert.equal(upload.status, 201, upload.text);
    assert.equal((await server.request(`/api/blobs/${digest}`, { method: 'HEAD' })).status, 200);
    assert.equal((await server.request(`/api/blobs/${digest}`, { method: 'POST', body: gguf })).status, 200);
  });

  test("ollama.create from the uploaded file streams Ollama's statuses and ends with success", async () => {
    // ollama 0.6.4's types predate `files`; the client sends every field it is given.
    const stream = await client.create({ model: CREATED, files: { 'tiny.gguf': digest }, system: SYSTEM, parameters: PARAMETERS, stream: true } as never);
    const statuses: string[] = [];
    for await (const part of stream as AsyncIterable<{ status: string }>) statuses.push(part.status);
    assert.equal(statuses.at(-1), 'success', statuses.join('\n'));
    assert.ok(statuses.includes('parsing GGUF'), statuses.join('\n'));
    assert.ok(statuses.includes(`using existing layer ${digest}`), statuses.join('\n'));
    assert.ok(statuses.includes('writing manifest'), statuses.join('\n'));
    const listed = await client.list();
    assert.ok(listed.models.some((m) => m.name.startsWith(CREATED)), JSON.stringify(listed.models.map((m) => m.name)));
  });

  test('ollama.show reports the system prompt and parameters the model was created with', async () => {
    const show = (await client.show({ model: CREATED })) as Awaited<ReturnType<Ollama['show']>> & { system?: string };
    assert.equal(show.system, SYSTEM);
    assert.match(show.parameters, /^num_ctx\s+1024$/m);
    assert.match(show.parameters, /^temperature\s+0$/m);
    assert.match(show.parameters, /^stop\s+"<\|end\|>"$/m);
    assert.ok(show.modelfile.includes(`SYSTEM """${SYSTEM}"""`), show.modelfile);
    assert.equal(show.details.format, 'gguf');
  });

  test('the created model answers a chat, opened by its system prompt unless the chat brings its own', async () => {
    const options = { num_predict: 3 };
    const bare = await client.chat({ model: CREATED, messages: HI, options });
    assert.equal(bare.message.role, 'assistant');
    assert.equal(bare.done, true);
    // The model's system prompt is what opens a chat that has none: the same prompt as sending it explicitly.
    const explicit = await client.chat({ model: CREATED, messages: [{ role: 'system', content: SYSTEM }, ...HI], options });
    assert.equal(bare.prompt_eval_count, explicit.prompt_eval_count);
    const own = await client.chat({ model: CREATED, messages: [{ role: 'system', content: 'x' }, ...HI], options });
    assert.ok(own.prompt_eval_count < bare.prompt_eval_count, `${own.prompt_eval_count} < ${bare.prompt_eval_count}`);
    // num_ctx became the model's packaged context size, which its load used rather than the 512 the GGUF was trained for.
    const loaded = (await client.ps()).models.find((m) => m.name.startsWith(CREATED)) as { context_length?: number } | undefined;
    assert.equal(loaded?.context_length, PARAMETERS.num_ctx);
  });

  test('ollama.create from an existing model replaces its system prompt and keeps its parameters (stream false)', async () => {
    const reply = await client.create({ model: 'tiny-pirate', from: CREATED, system: 'Talk like a pirate.', parameters: { top_p: 0.5, num_predict: 3 } });
    assert.deepEqual(reply, { status: 'success' });
    const show = (await client.show({ model: 'tiny-pirate' })) as Awaited<ReturnType<Ollama['show']>> & { system?: string };
    assert.equal(show.system, 'Talk like a pirate.');
    assert.match(show.parameters, /^temperature\s+0$/m);
    assert.match(show.parameters, /^top_p\s+0.5$/m);
    assert.match(show.parameters, /^num_ctx\s+1024$/m);
    const original = (await client.show({ model: CREATED })) as { system?: string };
    assert.equal(original.system, SYSTEM);
    // The model's num_predict is the default under the request's options: a request that sets no limit stops at 3 tokens.
    const limited = await client.generate({ model: 'tiny-pirate', prompt: 'Once upon a time' });
    assert.ok(limited.done_reason === 'length' ? limited.eval_count === 3 : limited.eval_count <= 3, JSON.stringify(limited));
    const own = await client.generate({ model: 'tiny-pirate', prompt: 'Once upon a time', options: { num_predict: 5 } });
    assert.ok(own.done_reason === 'length' ? own.eval_count === 5 : own.eval_count <= 5, JSON.stringify(own));
  });

  test('a create naming a blob that was never uploaded is a 400 that says to upload it first', async () => {
    const missing = `sha256:${'0'.repeat(64)}`;
    const { status, error } = await refusal(client.create({ model: 'never', files: { 'model.gguf': missing } } as never));
    assert.equal(status, 400);
    assert.ok(error.includes(missing) && /upload it first/.test(error), error);
    assert.equal((await server.request('/api/show', { body: { model: 'never' } })).status, 404);
  });

  test('quantize is refused with a 400 that says this server does not quantize', async () => {
    const { status, error } = await refusal(client.create({ model: 'tiny-q4', files: { 'tiny.gguf': digest }, quantize: 'q4_K_M' } as never));
    assert.equal(status, 400);
    assert.match(error, /quantize is not supported/);
    const neither = await refusal(client.create({ model: 'tiny-none' }));
    assert.equal(neither.status, 400);
    assert.equal(neither.error, "neither 'from' or 'files' was specified");
  });

  test("ollama.push sends the created model to the registry its name names, with Ollama's push statuses", async () => {
    const target = registry.reference('ns/tiny-created', 'v1');
    await client.copy({ source: CREATED, destination: target });
    const stream = await client.push({ model: target, insecure: true, stream: true });
    const parts: Array<{ status: string; digest?: string; total?: number; completed?: number }> = [];
    for await (const part of stream) parts.push(part);
    const statuses = parts.map((p) => p.status);
    assert.equal(statuses[0], 'retrieving manifest', statuses.join('\n'));
    assert.deepEqual(statuses.slice(-2), ['pushing manifest', 'success']);
    const weights = parts.filter((p) => p.digest === digest);
    assert.ok(weights.length > 0, statuses.join('\n'));
    assert.equal(weights.at(-1)!.status, `pushing ${digest.slice('sha256:'.length, 'sha256:'.length + 12)}`);
    assert.equal(weights.at(-1)!.completed, gguf.length);
    assert.equal(weights.at(-1)!.total, gguf.length);

    // The registry holds the very manifest the store has: the weights and the system prompt layer.
    const response = await fetch(`http://${registry.url}/v2/ns/tiny-created/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(response.status, 200);
    const manifest = (await response.json()) as { layers: Array<{ mediaType: string; digest: string }> };
    assert.ok(manifest.layers.some((l) => l.mediaType === DOCKER_GGUF && l.digest === digest), JSON.stringify(manifest));
    assert.ok(manifest.layers.some((l) => l.mediaType === OLLAMA_SYSTEM), JSON.stringify(manifest));
    const local = (await client.list()).models.find((m) => m.name.startsWith(CREATED))!;
    assert.equal(response.headers.get('docker-content-digest'), `sha256:${local.digest}`);
  });

  test("a push of a model the store does not have is an {error} with the catalog's 404, not a stream", async () => {
    const { status, error } = await refusal(client.push({ model: registry.reference('ns/absent', 'v1'), insecure: true }));
    assert.equal(status, 404);
    assert.match(error, /not found/);
  });
});
