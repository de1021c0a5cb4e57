/**
 * The model-management API of the shipped server, driven over its Unix socket against a real
 * docker-registry: the seed README's curl examples as written, registry names with ports,
 * remote lookups, tag/push/pull, skopeo reading what we pushed, refusals of bad input,
 * export/load and multipart upload.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startRegistry, type TestRegistry } from '../support/registry-harness.js';
import { type ServerProcess, startServer } from '../support/server-harness.js';
import { parseNdjson, type Reply } from '../support/http-client.js';
import { generateTinyGguf, multipartBody, packageAndPush, sha256OfBytes } from './support/fixtures.js';

/** What curl -d sends: the README's examples carry no JSON content type. */
const CURL_FORM = { 'content-type': 'application/x-www-form-urlencoded' };

interface ProgressLine {
  type: string;
  message: string;
  id?: string;
}

function assertPullSucceeded(reply: Reply): ProgressLine[] {
  assert.equal(reply.status, 200, reply.text);
  const lines = parseNdjson<ProgressLine>(reply);
  assert.ok(lines.length >= 2, `expected progress lines before success: ${reply.text}`);
  assert.ok(lines.slice(0, -1).some((l) => l.type === 'progress'), reply.text);
  assert.deepEqual(lines.slice(0, -1).filter((l) => l.type === 'error'), []);
  assert.equal(lines.at(-1)!.type, 'success', reply.text);
  return lines;
}

describe('the model API of the compiled server against a local registry', () => {
  let registry: TestRegistry;
  let server: ServerProcess;
  let ggufPath: string;
  let tiny: string;

  const create = (from: string) => server.request('/models/create', { body: JSON.stringify({ from }), headers: CURL_FORM });
  const listIds = async () => ((await server.request('/models')).json() as Array<{ id: string }>).map((m) => m.id).sort();

  before(async () => {
    registry = await startRegistry('anonymous');
    tiny = registry.reference('ai/tiny', 'latest');
    server = await startServer({ args: ['--threads', '1', '--log-level', 'warn'] }, async ({ dir }) => {
      ggufPath = await generateTinyGguf(dir, 7);
      await packageAndPush(ggufPath, tiny);
    });
  });

  after(async () => {
    const code = await server?.dispose();
    await registry?.stop();
    assert.equal(code, 0, 'the server exits cleanly on SIGTERM after the whole file');
  });

  test("the README's list, create, show, chat and delete examples work as written on a model with a registry port in its name", async () => {
    const listed = await server.request('/models');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.json(), []);

    const lines = assertPullSucceeded(await create(tiny));
    assert.match(lines.at(-1)!.message, /pulled/i);

    const shown = await server.request(`/models/${tiny}`);
    assert.equal(shown.status, 200, shown.text);
    const model = shown.json() as { id: string; tags: string[]; config: { format: string; architecture: string } };
    assert.match(model.id, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(model.tags, [tiny]);
    assert.equal(model.config.format, 'gguf');
    assert.equal(model.config.architecture, 'llama');

    const chat = await server.request('/engines/llama.cpp/v1/chat/completions', {
      headers: CURL_FORM,
      body: JSON.stringify({
        model: tiny,
        messages: [
          { role: 'system', content: 'You are a helpful assistant.' },
          { role: 'user', content: 'Hello, how are you?' },
        ],
      }),
    });
    assert.equal(chat.status, 200, chat.text);
    const completion = chat.json();
    assert.equal(typeof completion.id, 'string');
    assert.equal(completion.object, 'chat.completion');
    assert.ok(Number.isInteger(completion.created));
    assert.equal(completion.model, tiny);
    assert.equal(completion.choices.length, 1);
    assert.equal(completion.choices[0].index, 0);
    assert.equal(completion.choices[0].message.role, 'assistant');
    assert.equal(typeof completion.choices[0].message.content, 'string');
    assert.ok(['stop', 'length'].includes(completion.choices[0].finish_reason));
    const { prompt_tokens, completion_tokens, total_tokens } = completion.usage;
    assert.ok(prompt_tokens > 0 && completion_tokens > 0);
    assert.equal(total_tokens, prompt_tokens + completion_tokens);

    const deleted = await server.request(`/models/${tiny}`, { method: 'DELETE' });
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(await listIds(), []);
    assert.equal((await server.request(`/models/${tiny}`)).status, 404);
  });

  test('?remote=true describes the registry copy without pulling it', async () => {
    const remote = await server.request(`/models/${tiny}?remote=true`);
    assert.equal(remote.status, 200, remote.text);
    const { id } = remote.json() as { id: string };
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(await listIds(), []);

    assertPullSucceeded(await create(tiny));
    assert.equal(((await server.request(`/models/${tiny}`)).json() as { id: string }).id, id, 'the local copy has the ID the registry described');
  });

  test('a tagged model pushes to the registry, skopeo reads our manifest, and it pulls back by the new tag', async () => {
    const { id } = (await server.request(`/models/${tiny}`)).json() as { id: string };
    const target = registry.reference('team/retagged', 'v2');
    const tagged = await server.request(`/models/${tiny}/tag?repo=${registry.url}/team/retagged&tag=v2`, { method: 'POST' });
    assert.equal(tagged.status, 201, tagged.text);
    assert.equal(((await server.request(`/models/${target}`)).json() as { id: string }).id, id);

    const pushed = await server.request(`/models/${target}/push`, { method: 'POST' });
    assert.equal(pushed.status, 200, pushed.text);
    assert.equal(parseNdjson<ProgressLine>(pushed).at(-1)!.type, 'success', pushed.text);

    const { stdout } = await promisify(execFile)('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${target}`]);
    assert.equal(sha256OfBytes(stdout), id, 'the manifest in the registry is byte for byte ours: its digest is the model ID');
    const manifest = JSON.parse(stdout) as { config: { mediaType: string }; layers: Array<{ mediaType: string }> };
    assert.equal(manifest.config.mediaType, 'application/vnd.docker.ai.model.config.v0.1+json');
    assert.ok(manifest.layers.some((l) => l.mediaType === 'application/vnd.docker.ai.gguf.v3'));

    assert.equal((await server.request(`/models/${target}?force=true`, { method: 'DELETE' })).status, 200);
    assert.equal((await server.request(`/models/${tiny}?force=true`, { method: 'DELETE' })).status, 200);
    assert.deepEqual(await listIds(), []);
    assertPullSucceeded(await create(target));
    const pulled = (await server.request(`/models/${target}`)).json() as { id: string; tags: string[] };
    assert.equal(pulled.id, id);
    assert.deepEqual(pulled.tags, [target]);
  });

  test('bad input gets a clear 4xx and leaves the model list unchanged', async () => {
    const before = (await server.request('/models')).text;
    const cases: Array<{ what: string; path: string; method?: string; body?: string; status: number; message: RegExp }> = [
      { what: 'malformed JSON', path: '/models/create', body: '{"from": ', status: 400, message: /invalid request body/i },
      { what: 'a missing "from"', path: '/models/create', body: '{}', status: 400, message: /from/ },
      { what: 'an invalid reference', path: '/models/create', body: JSON.stringify({ from: 'UPPER/Case::bad' }), status: 400, message: /invalid/i },
      { what: 'a digest that walks up', path: '/models/create', body: JSON.stringify({ from: `${registry.url}/ai/tiny@sha256:../../../etc/passwd` }), status: 400, message: /invalid|digest/i },
      { what: 'an escaped traversal in a name', path: '/models/..%2F..%2Fetc', status: 400, message: /invalid model name/ },
      { what: 'dot segments in a name', path: '/models/ai/../../etc/passwd', status: 400, message: /invalid model name/ },
      { what: 'a traversal digest in a name', path: '/models/ai/tiny@sha256:..%2F..%2Fx', status: 400, message: /invalid/i },
      { what: 'an unknown model', path: '/models/ai/no-such-model', status: 404, message: /not found/i },
      { what: 'deleting an unknown model', path: '/models/ai/no-such-model', method: 'DELETE', status: 404, message: /not found/i },
      { what: 'tagging without a tag', path: `/models/${registry.reference('team/retagged', 'v2')}/tag?repo=ai/x`, method: 'POST', status: 400, message: /tag/ },
    ];
    for (const c of cases) {
      const reply = await server.request(c.path, { method: c.method ?? (c.body === undefined ? 'GET' : 'POST'), body: c.body, headers: c.body === undefined ? {} : CURL_FORM });
      assert.equal(reply.status, c.status, `${c.what}: ${reply.status} ${reply.text}`);
      assert.match(reply.text, c.message, c.what);
    }
    const chat = await server.request('/engines/v1/chat/completions', { body: { model: 'ai/no-such-model', messages: [{ role: 'user', content: 'hi' }] } });
    assert.equal(chat.status, 404, chat.text);
    assert.equal(typeof chat.json().error.message, 'string');
    assert.equal((await server.request('/models')).text, before);
  });

  test('an exported model loads back under the same ID', async () => {
    const target = registry.reference('team/retagged', 'v2');
    const { id } = (await server.request(`/models/${target}`)).json() as { id: string };
    const exported = await server.request(`/models/${target}/export`);
    assert.equal(exported.status, 200, exported.text);
    assert.match(String(exported.headers['content-type']), /tar/);

    assert.equal((await server.request(`/models/${target}`, { method: 'DELETE' })).status, 200);
    assert.deepEqual(await listIds(), []);
    const loaded = await server.request('/models/load', { headers: { 'content-type': 'application/x-tar' }, body: exported.body });
    assert.equal(loaded.status, 200, loaded.text);
    assert.equal(parseNdjson<ProgressLine>(loaded).at(-1)!.id, id);
    assert.deepEqual(await listIds(), [id]);
  });

  test('a GGUF uploaded as multipart becomes a tagged model that answers a chat', async () => {
    const upload = multipartBody({ tag: 'local/uploaded:v1' }, { name: 'tiny.gguf', bytes: await fs.readFile(ggufPath) });
    const reply = await server.request('/models/load', { headers: { 'content-type': upload.contentType }, body: upload.body });
    assert.equal(reply.status, 200, reply.text);
    const { id } = parseNdjson<ProgressLine>(reply).at(-1)!;
    assert.match(id!, /^sha256:[0-9a-f]{64}$/);
    const shown = (await server.request('/models/local/uploaded:v1')).json() as { id: string };
    assert.equal(shown.id, id);
    const chat = await server.request('/engines/v1/chat/completions', { body: { model: 'local/uploaded:v1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 } });
    assert.equal(chat.status, 200, chat.text);
    assert.equal(chat.json().usage.completion_tokens, 4);

    const bogus = multipartBody({}, { name: 'not.gguf', bytes: Buffer.from('definitely not a model') });
    const refused = await server.request('/models/load', { headers: { 'content-type': bogus.contentType }, body: bogus.body });
    assert.equal(refused.status, 400, refused.text);
  });

  test('GET /engines/df reports the bytes the store uses', async () => {
    const reply = await server.request('/engines/df');
    assert.equal(reply.status, 200, reply.text);
    const df = reply.json() as { models_disk_usage: number; default_backend_disk_usage: number };
    const ggufBytes = (await fs.stat(ggufPath)).size;
    assert.ok(df.models_disk_usage >= ggufBytes, `${df.models_disk_usage} < ${ggufBytes}`);
    // node-llama-cpp's prebuilt package for this platform is installed with the server.
    assert.ok(Number.isInteger(df.default_backend_disk_usage) && df.default_backend_disk_usage > 1024 * 1024, String(df.default_backend_disk_usage));
  });
});
