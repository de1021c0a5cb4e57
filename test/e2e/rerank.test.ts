/**
 * Reranking through the compiled server: a generated tiny reranker (ai/reranker) scores
 * documents on /rerank and /score, and a chat model (ai/demo) is refused there. One server for
 * the whole file.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDemoServer } from '../support/demo-server.js';
import { runCliOk, type ServerProcess } from '../support/server-harness.js';
import { packageIntoStore } from './support/fixtures.js';

const RERANKER = 'ai/reranker';
const DEMO = 'ai/demo';
const SERVER_ARGS = ['--threads', '2', '--max-loaded-models', '2', '--parallel', '1', '--context-size', '512', '--log-level', 'warn'];
const DOCUMENTS = ['the cat sat on the mat', 'stock prices fell sharply today', 'a kitten sleeps in the sun', 'rain is expected tomorrow'];

interface RerankReply {
  id: string;
  model: string;
  results: Array<{ index: number; relevance_score: number; document?: { text: string } }>;
  usage: { prompt_tokens: number; total_tokens: number };
}

interface OpenAIError {
  error: { message: string; type: string; code: string | number | null };
}

describe('reranking in the compiled server', () => {
  let server: ServerProcess;
  /** Every document's score from the first full rerank, by index: the reference the other tests compare to. */
  let scoreOf: number[];

  const rerank = (body: unknown, route = '/rerank') => server.request(route, { body });

  before(async () => {
    ({ server } = await startDemoServer({
      args: SERVER_ARGS,
      reranker: true,
      prepare: async ({ dir, modelsPath }) => {
        const file = path.join(dir, 'reranker.gguf');
        await runCliOk(['generate-model', '--preset', 'tiny', '--type', 'q8_0', '--seed', '3', '--reranker', '--out', file]);
        await packageIntoStore(file, modelsPath, RERANKER);
      },
    }));
  });

  after(async () => {
    const code = await server?.dispose();
    assert.equal(code, 0, `the server survived the file and exits cleanly on SIGTERM:\n${server?.output()}`);
  });

  test('a rerank returns one result per document, sorted by score, with indexes into the request', async () => {
    const reply = await rerank({ model: RERANKER, query: 'where is the cat?', documents: DOCUMENTS });
    assert.equal(reply.status, 200, reply.text);
    const body = reply.json<RerankReply>();
    assert.equal(body.model, RERANKER);
    assert.equal(body.results.length, DOCUMENTS.length);
    assert.deepEqual(body.results.map((r) => r.index).sort(), [0, 1, 2, 3]);
    for (let i = 1; i < body.results.length; i++) assert.ok(body.results[i - 1]!.relevance_score >= body.results[i]!.relevance_score, reply.text);
    for (const r of body.results) assert.ok(r.relevance_score >= 0 && r.relevance_score <= 1, reply.text);
    assert.ok(new Set(body.results.map((r) => r.relevance_score)).size > 1, `the scores differ between documents: ${reply.text}`);
    assert.equal(body.results[0]!.document, undefined);
    assert.ok(body.usage.prompt_tokens > 0);
    assert.equal(body.usage.total_tokens, body.usage.prompt_tokens);
    scoreOf = [];
    for (const r of body.results) scoreOf[r.index] = r.relevance_score;
  });

  test('each index maps back to its document: a document scored alone gets the score listed at its index', async () => {
    for (const [index, text] of DOCUMENTS.entries()) {
      const reply = await rerank({ model: RERANKER, query: 'where is the cat?', documents: [text] });
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.json<RerankReply>().results[0]!.relevance_score, scoreOf[index]);
    }
  });

  test('top_n keeps the best results and return_documents echoes their text, whether sent as strings or {text}', async () => {
    const reply = await rerank(
      { model: RERANKER, query: 'where is the cat?', documents: DOCUMENTS.map((text) => ({ text })), top_n: 2, return_documents: true },
      '/v1/rerank',
    );
    assert.equal(reply.status, 200, reply.text);
    const results = reply.json<RerankReply>().results;
    assert.equal(results.length, 2);
    const best = [...scoreOf.keys()].sort((a, b) => scoreOf[b]! - scoreOf[a]!).slice(0, 2);
    assert.deepEqual(results.map((r) => r.index), best);
    for (const r of results) assert.deepEqual(r.document, { text: DOCUMENTS[r.index] });
  });

  test('every spelling of the rerank route answers', async () => {
    for (const route of ['/engines/rerank', '/engines/v1/rerank', '/engines/llama.cpp/v1/rerank', '/v1/reranking']) {
      const reply = await rerank({ model: RERANKER, query: 'q', documents: ['a'] }, route);
      assert.equal(reply.status, 200, `${route}: ${reply.text}`);
    }
  });

  test('/score gives one score per text_2 entry in request order, as vLLM does', async () => {
    const reply = await server.request('/score', { body: { model: RERANKER, text_1: 'where is the cat?', text_2: DOCUMENTS } });
    assert.equal(reply.status, 200, reply.text);
    const body = reply.json<{ object: string; data: Array<{ index: number; object: string; score: number }> }>();
    assert.equal(body.object, 'list');
    assert.deepEqual(body.data, DOCUMENTS.map((_, index) => ({ index, object: 'score', score: scoreOf[index] })));
    const single = await server.request('/engines/score', { body: { model: RERANKER, text_1: 'where is the cat?', text_2: DOCUMENTS[2] } });
    assert.equal(single.status, 200, single.text);
    assert.deepEqual(single.json().data, [{ index: 0, object: 'score', score: scoreOf[2] }]);
  });

  test('the demo reranker (demo --reranker, as make demo stores it) answers /rerank', async () => {
    const reply = await rerank({ model: 'ai/demo-reranker', query: 'where is the cat?', documents: DOCUMENTS, top_n: 1 });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json<RerankReply>().results.length, 1);
  });

  test('X-Preload-Only loads a reranker in reranking mode and answers an empty 200', async () => {
    const reply = await server.request('/rerank', { headers: { 'X-Preload-Only': 'true' }, body: { model: 'ai/demo-reranker' } });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.text, '');
    const ps = (await server.request('/engines/ps')).json<Array<{ model_name: string; mode: string }>>();
    assert.ok(ps.some((m) => m.model_name === 'ai/demo-reranker' && m.mode === 'reranking'), JSON.stringify(ps));
  });

  test('/metrics counts rerank and score requests under one route label each, whichever spelling they came by', async () => {
    const metrics = (await server.request('/metrics')).text;
    assert.match(metrics, /route="\/rerank",method="POST",status="200"\} ([5-9]|\d\d)/, metrics);
    assert.match(metrics, /route="\/score",method="POST",status="200"\} 2/, metrics);
  });

  test('a chat model asked to rerank gets a 400 saying it is not a reranker', async () => {
    const reply = await rerank({ model: DEMO, query: 'q', documents: ['a'] });
    assert.equal(reply.status, 400, reply.text);
    assert.match(reply.json<OpenAIError>().error.message, /not a reranker/);
  });

  test('an unknown model is a 404', async () => {
    const reply = await rerank({ model: 'ai/nothing-here', query: 'q', documents: ['a'] });
    assert.equal(reply.status, 404, reply.text);
    assert.ok(reply.json<OpenAIError>().error.message);
  });

  test('bad requests get 400s that name the problem', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ model: RERANKER, query: 'q', documents: [] }, /documents must not be empty/],
      [{ model: RERANKER, documents: ['a'] }, /query is required/],
      [{ model: RERANKER, query: 'q' }, /documents is required/],
      [{ model: RERANKER, query: 'q', documents: [1] }, /documents/],
      [{ model: RERANKER, query: 'q', documents: ['a'], top_n: 0 }, /top_n/],
      [{ query: 'q', documents: ['a'] }, /model/],
    ];
    for (const [body, message] of cases) {
      const reply = await rerank(body);
      assert.equal(reply.status, 400, `${JSON.stringify(body)}: ${reply.text}`);
      assert.match(reply.json<OpenAIError>().error.message, message, JSON.stringify(body));
    }
    const badJson = await server.request('/rerank', { body: '{"model": ', headers: { 'content-type': 'application/json' } });
    assert.equal(badJson.status, 400, badJson.text);
    assert.match(badJson.json<OpenAIError>().error.message, /JSON/i);
    const noText2 = await server.request('/score', { body: { model: RERANKER, text_1: 'q' } });
    assert.equal(noText2.status, 400, noText2.text);
    assert.match(noText2.json<OpenAIError>().error.message, /text_2 is required/);
  });
});
