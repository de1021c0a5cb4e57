/**
 * The fuzz of fault containment: hundreds of generated hostile model files (meaning-level
 * metadata damage, broken token lists, damaged tensors, chat templates that loop, recurse, blow
 * up or raise) go through the real server: uploaded, then asked to chat. Every request must be
 * answered with a status and a readable error, the server must stay up throughout, and a healthy
 * model must keep answering beside them. FUZZ_MODELS sets how many (default: every single
 * mutation, then COMBINED seeded combinations).
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type ServerProcess } from '../support/server-harness.js';
import { type Reply } from '../support/http-client.js';
import { gguf, GgufValueType } from '../../src/gguf/index.js';
import { setMetadata, singleMutations, writeHostileModel, writeMutatedModel } from '../support/hostile-models.js';
import { generateTinyGguf, multipartBody, sha256OfFile } from './support/fixtures.js';

/** Combinations of mutations run after every single one; FUZZ_MODELS=1000 runs a deeper fuzz. */
const COMBINED = 26;
const COUNT = Number(process.env.FUZZ_MODELS ?? singleMutations().length + COMBINED);
/** Hostile models in flight at once. */
const LANES = 2;
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
    const outcomes = { invalidAtUpload: 0, refusedByCheck: 0, admitted: 0, chatted: 0, chatFailed: 0 };
    const fuzzOne = async (i: number) => {
      const model = await writeHostileModel(dir, i);
      const context = `model ${i} (${model.description})`;
      try {
        await fuzzModel(i, model.path, context);
      } catch (err) {
        // Name the model and keep what the server said: a transport error alone names neither.
        throw new Error(`${context}: ${(err as Error).message}\n${server.output().slice(-4000)}`, { cause: err });
      }
    };
    const fuzzModel = async (i: number, file: string, context: string) => {
      const tag = `fuzz/hostile-${i}:latest`;
      const upload = await uploadModel(server, tag, file);
      assert.ok([200, 400, 422].includes(upload.status), `${context}: upload answered ${upload.status}: ${upload.text}`);
      if (upload.status !== 200) {
        // The JavaScript checks refused the file before it was stored.
        assert.ok(upload.text.trim().length > 0, `${context}: a refusal says why`);
        outcomes.invalidAtUpload++;
      } else {
        const refusal = causeOf(warningOf(upload));
        const reply = await chat(tag);
        assertAnswered(reply, context);
        if (refusal) {
          outcomes.refusedByCheck++;
          assert.equal(reply.status, 422, `${context}: a model the check refused is not run`);
          assert.equal(causeOf(errorMessage(reply)), refusal, `${context}: the chat names the cause the upload warned of`);
        } else {
          outcomes.admitted++;
          if (reply.status === 200) outcomes.chatted++;
          else outcomes.chatFailed++;
        }
      }
      await fs.rm(file, { force: true });
      assert.ok(server.running, `the server died at ${context}:\n${server.output().slice(-4000)}`);
      if (i % HEALTH_EVERY === HEALTH_EVERY - 1) assert.equal((await chat('fuzz/healthy')).status, 200, `the healthy model stopped answering after ${context}`);
    };
    // Two at a time, as clients would send them: while one model's check runs, the other's chat does.
    // A failure stops both lanes before the test ends, so that no lane keeps loading models into the next test.
    let next = 0;
    let failure: unknown;
    const lane = async () => {
      for (let i = next++; i < COUNT && failure === undefined; i = next++) await fuzzOne(i).catch((err: unknown) => (failure ??= err));
    };
    await Promise.all(Array.from({ length: LANES }, lane));
    if (failure !== undefined) throw failure;
    assert.equal((await chat('fuzz/healthy')).status, 200);
    assert.equal((await server.request('/models')).status, 200);
    // Both paths must have been exercised, or the fuzz proved less than it claims.
    assert.ok(outcomes.invalidAtUpload > 0 && outcomes.refusedByCheck > 0 && outcomes.admitted > 0, JSON.stringify(outcomes));
    process.stdout.write(`# hostile models: ${JSON.stringify(outcomes)}\n`);
  });

  test('a template that overruns its budget on one conversation fails that request with a JSON 422, and its Worker is retired for a fresh one', async () => {
    // Admitted, because the check's conversations render. node-llama-cpp renders a template with
    // stand-ins for the message texts, so what a request can change is the conversation's shape:
    // one longer than any the check tries starts a 10^9 loop.
    const template = "{% if messages|length > 6 %}{% for i in range(1000000000) %}x{% endfor %}{% endif %}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}<|assistant|>";
    const file = path.join(dir, 'loops-on-request.gguf');
    await writeMutatedModel(file, (p) => setMetadata(p, 'tokenizer.chat_template', gguf.str(template)), 12);
    const upload = await uploadModel(server, 'fuzz/loops-on-request:latest', file);
    assert.equal(upload.status, 200, upload.text);
    assert.equal(warningOf(upload), undefined, 'the check admits it');
    const turns = (n: number) => Array.from({ length: n }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: `turn ${i}` }));
    const ask = (messages: unknown[]) => server.request('/engines/v1/chat/completions', { body: { model: 'fuzz/loops-on-request', messages, max_tokens: 2 } });
    const loadsBefore = countLines(server.output(), /model loaded .*model=(docker\.io\/)?fuzz\/loops-on-request/);
    assert.equal((await ask(turns(1))).status, 200);
    const overrun = await ask(turns(7));
    assert.equal(overrun.status, 422, overrun.text);
    assert.match(errorMessage(overrun), /chat template failed: the chat template (ran|produced)/);
    const after = await ask(turns(3));
    assert.equal(after.status, 200, after.text);
    const output = server.output();
    assert.match(output, /model retired; its next request loads it afresh .*reason=its chat template overran the \w+ budget/);
    assert.equal(countLines(output, /model loaded .*model=(docker\.io\/)?fuzz\/loops-on-request/) - loadsBefore, 2, 'one Worker before the overrun, a fresh one after');
    assert.ok(server.running);
  });

  test('a model that names a pooling type is checked by embedding when it arrives, not by generating', async () => {
    const file = path.join(dir, 'embedder.gguf');
    await writeMutatedModel(file, (p) => setMetadata(p, 'llama.pooling_type', gguf.u32(1)), 13);
    const upload = await uploadModel(server, 'fuzz/embedder:latest', file);
    assert.equal(upload.status, 200, upload.text);
    assert.equal(warningOf(upload), undefined, upload.text);
    const verdictFile = path.join(server.modelsPath, 'admission', 'sha256', `${(await sha256OfFile(file)).slice('sha256:'.length)}.json`);
    const stored = JSON.parse(await fs.readFile(verdictFile, 'utf8')) as { verdicts: Record<string, { admitted: boolean }> };
    assert.deepEqual(Object.keys(stored.verdicts), ['embedding']);
    assert.equal(stored.verdicts.embedding?.admitted, true);
  });

  test('a refused model stays refused at chat time with the same cause, without a second check', async () => {
    // Duplicate tokens pass every JavaScript check and abort llama.cpp.
    const file = path.join(dir, 'identical-tokens.gguf');
    await writeMutatedModel(file, (p) => setMetadata(p, 'tokenizer.ggml.tokens', gguf.array(GgufValueType.STRING, new Array<string>(320).fill('a'))), 11);
    const model = { path: file };
    const first = await uploadModel(server, 'fuzz/refused:latest', model.path);
    assert.equal(first.status, 200, 'the model is stored');
    assert.match(first.text, /"type":"progress","message":"Checking that the model loads and runs"/);
    assert.match(warningOf(first) ?? '', /^model (docker\.io\/)?fuzz\/refused:latest cannot run here: the engine was killed by SIGABRT/);
    const verdictFile = path.join(server.modelsPath, 'admission', 'sha256', `${(await sha256OfFile(model.path)).slice('sha256:'.length)}.json`);
    const before = await fs.readFile(verdictFile, 'utf8');
    assert.match(before, /"admitted": false/);
    const reply = await chat('fuzz/refused');
    assert.equal(reply.status, 422);
    assert.match(errorMessage(reply), /cannot run here: the engine was killed by SIGABRT/);
    assert.equal(await fs.readFile(verdictFile, 'utf8'), before, 'the verdict was not made again');
  });
});

async function uploadModel(server: ServerProcess, tag: string, file: string): Promise<Reply> {
  const upload = multipartBody({ tag }, { name: path.basename(file), bytes: await fs.readFile(file) });
  return server.request('/models/load', { headers: { 'content-type': upload.contentType, accept: 'application/json' }, body: upload.body });
}

/** The warning line of an upload's progress stream, if any. */
function warningOf(reply: Reply): string | undefined {
  for (const line of reply.text.split('\n')) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as { type: string; message: string };
    if (event.type === 'warning') return event.message;
  }
  return undefined;
}

/**
 * What follows "model X cannot run here: " (the name differs between upload and chat). A refusal
 * "as an embedding model" (arrival checks a pooling model by embedding) says nothing of chatting.
 */
function causeOf(message: string | undefined): string | undefined {
  const at = message?.indexOf('cannot run here: ') ?? -1;
  return at < 0 ? undefined : message!.slice(at);
}

function countLines(text: string, pattern: RegExp): number {
  return text.split('\n').filter((line) => pattern.test(line)).length;
}

function errorMessage(reply: Reply): string {
  return (reply.json() as { error: { message: string } }).error.message;
}

/** A status, and for an error an OpenAI-shaped body that names the problem. */
function assertAnswered(reply: Reply, context: string): void {
  if (reply.status === 200) return;
  assert.ok(reply.status >= 400 && reply.status < 600, `${context}: chat answered ${reply.status}`);
  const body = reply.json() as { error?: { message?: string } };
  assert.ok(typeof body.error?.message === 'string' && body.error.message.length > 0, `${context}: error body ${reply.text}`);
}
