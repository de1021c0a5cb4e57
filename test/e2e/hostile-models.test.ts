/**
 * The fuzz of fault containment: hundreds of generated hostile model files (meaning-level
 * metadata damage, broken token lists, damaged tensors, chat templates that loop, recurse, blow
 * up or raise) go through the real server: uploaded, then asked to chat. Every request must be
 * answered with a status and a readable error, the server must stay up throughout, and a healthy
 * model must keep answering beside them. FUZZ_MODELS sets how many (default 200).
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type Reply, type ServerProcess } from '../support/server-harness.js';
import { singleMutations, writeHostileModel } from '../support/hostile-models.js';
import { generateTinyGguf, multipartBody, sha256OfFile } from './support/fixtures.js';

const COUNT = Number(process.env.FUZZ_MODELS ?? 200);
/** How often (in models) the healthy model is asked to chat between hostile ones. */
const HEALTH_EVERY = 10;

describe('hostile model files against the running server', () => {
  let server: ServerProcess;
  let dir: string;
  before(async () => {
    server = await startServer({ args: ['--threads', '1', '--parallel', '1', '--max-loaded-models', '2', '--admission-timeout', '30'] });
    dir = path.join(server.dir, 'hostile');
    await fs.mkdir(dir);
    const healthy = await generateTinyGguf(dir, 3);
    const upload = await uploadModel(server, 'fuzz/healthy:latest', healthy);
    assert.equal(upload.status, 200, upload.text);
  });
  after(async () => {
    await server?.dispose();
  });

  const chat = (model: string) =>
    server.request('/engines/v1/chat/completions', { body: { model, messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 3 } });

  test(`${COUNT} hostile models are each answered, and neither the server nor a healthy model goes down`, { timeout: 30 * 60_000 }, async () => {
    assert.ok(COUNT >= singleMutations().length, `the fuzz covers every single mutation (${singleMutations().length}) before combining them`);
    const outcomes = { refusedAtUpload: 0, admitted: 0, chatted: 0, chatFailed: 0 };
    for (let i = 0; i < COUNT; i++) {
      const model = await writeHostileModel(dir, i);
      const tag = `fuzz/hostile-${i}:latest`;
      const context = `model ${i} (${model.description})`;
      const upload = await uploadModel(server, tag, model.path);
      assert.ok([200, 400, 422].includes(upload.status), `${context}: upload answered ${upload.status}: ${upload.text}`);
      if (upload.status !== 200) {
        assert.ok(upload.text.trim().length > 0, `${context}: a refusal says why`);
        outcomes.refusedAtUpload++;
      } else {
        outcomes.admitted++;
        const reply = await chat(tag);
        assertAnswered(reply, context);
        if (reply.status === 200) outcomes.chatted++;
        else outcomes.chatFailed++;
      }
      await fs.rm(model.path, { force: true });
      assert.ok(server.running, `the server died at ${context}:\n${server.output().slice(-4000)}`);
      if (i % HEALTH_EVERY === HEALTH_EVERY - 1) assert.equal((await chat('fuzz/healthy')).status, 200, `the healthy model stopped answering after ${context}`);
    }
    assert.equal((await chat('fuzz/healthy')).status, 200);
    assert.equal((await server.request('/models')).status, 200);
    // Both paths must have been exercised, or the fuzz proved less than it claims.
    assert.ok(outcomes.refusedAtUpload > 0 && outcomes.admitted > 0, JSON.stringify(outcomes));
    process.stdout.write(`# hostile models: ${JSON.stringify(outcomes)}\n`);
  });

  test('a refused model stays refused at chat time with the same cause, without a second check', async () => {
    const model = await writeHostileModel(dir, 0);
    const first = await uploadModel(server, 'fuzz/refused:latest', model.path);
    assert.equal(first.status, 422);
    assert.match(first.text, /cannot run here: the engine was killed by SIGABRT/);
    const verdictFile = path.join(server.modelsPath, 'admission', 'sha256', `${(await sha256OfFile(model.path)).slice('sha256:'.length)}.json`);
    const before = await fs.readFile(verdictFile, 'utf8');
    assert.match(before, /"admitted": false/);
    const reply = await chat('fuzz/refused');
    assert.equal(reply.status, 422);
    assert.match((reply.json() as { error: { message: string } }).error.message, /cannot run here: the engine was killed by SIGABRT/);
    assert.equal(await fs.readFile(verdictFile, 'utf8'), before, 'the verdict was not made again');
  });
});

async function uploadModel(server: ServerProcess, tag: string, file: string): Promise<Reply> {
  const upload = multipartBody({ tag }, { name: path.basename(file), bytes: await fs.readFile(file) });
  return server.request('/models/load', { headers: { 'content-type': upload.contentType }, body: upload.body });
}

/** A status, and for an error an OpenAI-shaped body that names the problem. */
function assertAnswered(reply: Reply, context: string): void {
  if (reply.status === 200) return;
  assert.ok(reply.status >= 400 && reply.status < 600, `${context}: chat answered ${reply.status}`);
  const body = reply.json() as { error?: { message?: string } };
  assert.ok(typeof body.error?.message === 'string' && body.error.message.length > 0, `${context}: error body ${reply.text}`);
}
