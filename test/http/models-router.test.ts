import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateModel } from '../../src/gguf/index.js';
import { createApp } from '../../src/http/common/app.js';
import { closeServer, listenOnSocket } from '../../src/http/common/listen.js';
import { createModelsRouter } from '../../src/http/docker/models-router.js';
import { createSilentLogger } from '../../src/log.js';
import { Catalog, ModelService } from '../../src/models/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { makeTempDir, openTempStore, storeFakeModel, type TempStore } from '../support/catalog-fixtures.js';
import { pushArtifact, startRegistry, type TestRegistry } from '../support/registry-harness.js';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

const MAX_UPLOAD = 1024 * 1024;

describe('the model-management routes over a Unix socket', () => {
  let temp: TempStore;
  let dir: string;
  let uploadDir: string;
  let socketPath: string;
  let server: http.Server;
  let client: RegistryClient;
  let registry: TestRegistry;
  let catalog: Catalog;
  let ggufPath: string;

  function request(method: string, urlPath: string, options: { headers?: http.OutgoingHttpHeaders; body?: Buffer | string } = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath, path: urlPath, method, headers: options.headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(options.body);
    });
  }

  const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  function multipart(fields: Record<string, string>, file: { name: string; bytes: Buffer }) {
    const boundary = `----model-runner-test-${Date.now()}`;
    const parts: Buffer[] = [];
    for (const [key, value] of Object.entries(fields)) {
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${value}\r\n`));
    }
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
    parts.push(file.bytes, Buffer.from(`\r\n--${boundary}--\r\n`));
    return { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: Buffer.concat(parts) };
  }

  const uploadsLeft = async () => (await fs.readdir(uploadDir).catch(() => [])).length;

  before(async () => {
    dir = await makeTempDir('router');
    uploadDir = path.join(dir, 'uploads');
    socketPath = path.join(dir, 'api.sock');
    temp = await openTempStore('router-store');
    registry = await startRegistry('anonymous');
    client = new RegistryClient({ retries: 0 });
    catalog = new Catalog({ store: temp.store, registry: client, logger: createSilentLogger() });
    const logger = createSilentLogger();
    const router = createModelsRouter({ catalog, models: new ModelService({ catalog }), logger, maxUploadBytes: MAX_UPLOAD, uploadDir, backendDiskUsage: async () => 1234 });
    server = http.createServer(createApp({ logger, routers: [router] }));
    await listenOnSocket(server, socketPath);
    ggufPath = (await generateModel({ path: path.join(dir, 'tiny.gguf'), preset: 'tiny', type: 'q8_0', seed: 3 })).path;
  });

  after(async () => {
    if (server) await closeServer(server);
    client?.dispose();
    await registry?.stop();
    await temp?.dispose();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test('GET /models lists stored models in Docker shape', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'list me', tags: ['docker.io/ai/listed:latest'] });
    const reply = await request('GET', '/models');
    assert.equal(reply.status, 200);
    const models = JSON.parse(reply.text) as Array<{ id: string; tags: string[]; created: number; config: { format: string } }>;
    const listed = models.find((m) => m.id === id);
    assert.deepEqual(listed?.tags, ['docker.io/ai/listed:latest']);
    assert.equal(listed?.created, Date.parse('2025-04-01T12:00:00Z') / 1000);
    assert.equal(listed?.config.format, 'gguf');
  });

  test('tagging adds a name that GET finds, and deleting untags first, then deletes', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'tag me', tags: ['docker.io/ai/tagme:latest'] });
    const tagged = await request('POST', '/models/ai/tagme/tag?repo=myorg/renamed&tag=v2');
    assert.equal(tagged.status, 201);
    assert.deepEqual(JSON.parse(tagged.text), { message: 'Model tagged successfully with "myorg/renamed:v2"', target: 'myorg/renamed:v2' });
    assert.equal(JSON.parse((await request('GET', '/models/myorg/renamed:v2')).text).id, id);

    const missing = await request('POST', '/models/ai/tagme/tag?repo=myorg/renamed');
    assert.equal(missing.status, 400);

    const untag = await request('DELETE', '/models/myorg/renamed:v2');
    assert.equal(untag.status, 200);
    assert.deepEqual(JSON.parse(untag.text), [{ Untagged: 'docker.io/myorg/renamed:v2' }]);
    const removed = await request('DELETE', '/models/tagme');
    assert.deepEqual(JSON.parse(removed.text), [{ Untagged: 'docker.io/ai/tagme:latest' }, { Deleted: id }]);
    assert.equal((await request('GET', `/models/${id}`)).status, 404);
  });

  test('deleting by ID a model with two tags is 409 unless ?force is given as a bare key', async () => {
    const id = await storeFakeModel(temp.store, { layer: 'forced', tags: ['docker.io/ai/f1:latest', 'docker.io/ai/f2:latest'] });
    const refused = await request('DELETE', `/models/${id}`);
    assert.equal(refused.status, 409);
    assert.match(refused.headers['content-type'] ?? '', /^text\/plain/);
    const forced = await request('DELETE', `/models/${id}?force`);
    assert.equal(forced.status, 200);
    assert.equal((JSON.parse(forced.text) as unknown[]).length, 3);
  });

  test('an unknown model is 404 plain text naming it', async () => {
    const reply = await request('GET', '/models/ai/unknown-model');
    assert.equal(reply.status, 404);
    assert.match(reply.headers['content-type'] ?? '', /^text\/plain/);
    assert.equal(reply.text, 'model "ai/unknown-model" not found\n');
  });

  test('a malformed reference is 400 on GET and on create', async () => {
    assert.equal((await request('GET', '/models/Bad:Tag:Twice')).status, 400);
    const create = await request('POST', '/models/create', json({ from: 'not a reference' }));
    assert.equal(create.status, 400);
    assert.match(create.text, /invalid reference/);
    assert.equal((await request('POST', '/models/create', json({}))).status, 400);
  });

  test('path traversal in names is refused with 400 and changes nothing', async () => {
    const before = await temp.store.listModels();
    for (const [method, urlPath] of [
      ['GET', '/models/../../etc/passwd'],
      ['GET', '/models/ai/..%2F..%2Fmodels.json'],
      ['DELETE', '/models/%2e%2e/models.json'],
      ['GET', '/models/ai/x/..%5C..%5Cexport'],
      ['POST', '/models/../layout.json/tag?repo=a&tag=b'],
    ] as const) {
      const reply = await request(method, urlPath);
      assert.equal(reply.status, 400, `${method} ${urlPath} -> ${reply.status} ${reply.text}`);
    }
    assert.deepEqual(await temp.store.listModels(), before);
    await fs.access(path.join(temp.store.root, 'models.json'));
  });

  test('malformed and oversized JSON bodies are 400 and 413 plain text', async () => {
    const bad = await request('POST', '/models/create', { headers: { 'content-type': 'application/json' }, body: '{"from": ' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /invalid request body/);
    const big = await request('POST', '/models/create', json({ from: 'ai/x', pad: 'x'.repeat(1024 * 1024) }));
    assert.equal(big.status, 413);
  });

  test('an unknown POST action is 404 naming the action', async () => {
    const reply = await request('POST', '/models/ai/x/frobnicate');
    assert.equal(reply.status, 404);
    assert.equal(reply.text, 'unknown action "frobnicate"\n');
  });

  test('export then load round trip keeps the model ID and loads it untagged', async () => {
    const { id } = await catalog.importGguf(ggufPath, { tag: 'ai/roundtrip:v1' });
    const exported = await request('GET', '/models/ai/roundtrip:v1/export');
    assert.equal(exported.status, 200);
    assert.equal(exported.headers['content-type'], 'application/x-tar');
    await catalog.delete('ai/roundtrip:v1');
    assert.equal((await request('GET', `/models/${id}`)).status, 404);

    const loaded = await request('POST', '/models/load', { headers: { 'content-type': 'application/x-tar' }, body: exported.body });
    assert.equal(loaded.status, 200);
    assert.match(loaded.headers['content-type'] ?? '', /^text\/plain/);
    const line = JSON.parse(loaded.text.replaceAll('&#34;', '"')) as { type: string; message: string; id: string };
    assert.deepEqual(line, { type: 'success', message: 'Model loaded successfully', id });
    const model = JSON.parse((await request('GET', `/models/${id}`)).text) as { tags: string[] };
    assert.deepEqual(model.tags, []);
  });

  test('a truncated tar body is refused and stores no model', async () => {
    const before = (await temp.store.listModels()).length;
    const reply = await request('POST', '/models/load', { headers: { 'content-type': 'application/x-tar' }, body: Buffer.alloc(1536, 1) });
    assert.equal(reply.status, 400, reply.text);
    assert.match(reply.text, /tar/i);
    assert.equal((await temp.store.listModels()).length, before);
  });

  test('a tar body over the upload limit is 413 and stores nothing', async () => {
    const before = (await temp.store.listModels()).length;
    const reply = await request('POST', '/models/load', { headers: { 'content-type': 'application/x-tar' }, body: Buffer.alloc(MAX_UPLOAD + 512) });
    assert.equal(reply.status, 413);
    assert.equal((await temp.store.listModels()).length, before);
  });

  test('a multipart GGUF upload is packaged, tagged and its temp file removed', async () => {
    const form = multipart({ tag: 'uploads/tiny:v1' }, { name: 'tiny.gguf', bytes: await fs.readFile(ggufPath) });
    const reply = await request('POST', '/models/load', { ...form, headers: { ...form.headers, accept: 'application/json' } });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.headers['content-type'], 'application/json');
    const line = JSON.parse(reply.text) as { id: string; message: string };
    assert.equal(line.message, 'Model loaded successfully');
    const model = JSON.parse((await request('GET', '/models/uploads/tiny:v1')).text) as { id: string; config: { architecture: string } };
    assert.equal(model.id, line.id);
    assert.equal(model.config.architecture, 'llama');
    assert.equal(await uploadsLeft(), 0);
  });

  test('a non-GGUF upload is 400 naming the problem and leaves no file and no model', async () => {
    const before = (await temp.store.listModels()).length;
    const form = multipart({ tag: 'uploads/bogus' }, { name: 'notes.txt', bytes: Buffer.from('these are not weights') });
    const reply = await request('POST', '/models/load', form);
    assert.equal(reply.status, 400);
    assert.match(reply.text, /"notes\.txt" is not a GGUF model/);
    assert.equal(await uploadsLeft(), 0);
    assert.equal((await temp.store.listModels()).length, before);
  });

  test('an upload over the size limit is 413 and leaves no file behind', async () => {
    const form = multipart({}, { name: 'big.gguf', bytes: Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(MAX_UPLOAD + 1)]) });
    const reply = await request('POST', '/models/load', form);
    assert.equal(reply.status, 413);
    assert.equal(await uploadsLeft(), 0);
  });

  test('create streams HTML-escaped text lines by default and plain JSON only for Accept: application/json', async () => {
    await pushArtifact(registry, 'ai/streamed', 'latest', { layers: [Buffer.from('streamed layer bytes')] });
    const from = registry.reference('ai/streamed');
    const text = await request('POST', '/models/create', json({ from }));
    assert.equal(text.status, 200);
    assert.equal(text.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(text.headers['cache-control'], 'no-cache');
    const lines = text.text.trim().split('\n');
    assert.ok(lines.every((l) => l.startsWith('{&#34;type&#34;:') && !l.includes('"')));
    assert.equal(JSON.parse(lines.at(-1)!.replaceAll('&#34;', '"')).message, 'Model pulled successfully');

    const cached = await request('POST', '/models/create', { headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ from }) });
    assert.equal(cached.headers['content-type'], 'application/json');
    const events = cached.text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; message: string });
    assert.equal(events.length, 1);
    assert.match(events[0]!.message, /^Using cached model: /);
  });

  test('names with a registry port work for get, remote get, tag and push', async () => {
    const from = registry.reference('ai/streamed');
    const local = await request('GET', `/models/${from}`);
    assert.equal(local.status, 200, local.text);
    const model = JSON.parse(local.text) as { id: string; tags: string[] };
    assert.deepEqual(model.tags, [from]);

    const remote = JSON.parse((await request('GET', `/models/${from}?remote=true`)).text) as { id: string; tags: string[] };
    assert.deepEqual(remote, { ...JSON.parse(local.text), tags: [] });

    const tagged = await request('POST', `/models/${from}/tag?repo=${registry.url}/ai/pushed&tag=v1`);
    assert.equal(tagged.status, 201, tagged.text);
    const pushed = await request('POST', `/models/${registry.url}/ai/pushed:v1/push`, { headers: { accept: 'application/json' } });
    assert.equal(pushed.status, 200, pushed.text);
    const lines = pushed.text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; message: string; mode: string });
    assert.deepEqual(lines.at(-1), { type: 'success', message: 'Model pushed successfully', mode: 'push' });
    const again = JSON.parse((await request('GET', `/models/${registry.url}/ai/pushed:v1?remote=true`)).text) as { id: string };
    assert.equal(again.id, model.id);
  });

  test('create answers a model missing from the registry with 404 before any line is streamed', async () => {
    const reply = await request('POST', '/models/create', json({ from: registry.reference('ai/never-pushed') }));
    assert.equal(reply.status, 404);
    assert.match(reply.headers['content-type'] ?? '', /^text\/plain/);
  });

  test('GET /engines/df reports the store and backend disk usage', async () => {
    const reply = await request('GET', '/engines/df');
    const df = JSON.parse(reply.text) as { models_disk_usage: number; default_backend_disk_usage: number };
    assert.ok(df.models_disk_usage > 0);
    assert.equal(df.default_backend_disk_usage, 1234);
  });

  test('DELETE /models/purge empties the store with an empty 200', async () => {
    const reply = await request('DELETE', '/models/purge');
    assert.equal(reply.status, 200);
    assert.equal(reply.text, '');
    assert.deepEqual(JSON.parse((await request('GET', '/models')).text), []);
  });
});
