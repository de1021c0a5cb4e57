/**
 * Runs the benchmark client against a tiny HTTP server on a Unix socket that streams a
 * scripted OpenAI-style SSE reply (a protocol fixture shaped like llama-server's stream), and
 * checks that the numbers it reports agree with what the fixture sent.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseEndpoint } from '../../src/bench/endpoint.js';
import { runBench, type BenchOptions } from '../../src/bench/run.js';

const TEMPLATE_TOKENS = 5;
const TOKENS_PER_WORD = 2;

interface Fixture {
  server: http.Server;
  socketPath: string;
  received: Array<Record<string, unknown>>;
  /** Every n-th request (1-based) fails with HTTP 500; 0 never. */
  failEvery: number;
  /** Whether replies carry usage and llama-server timings. */
  withUsage: boolean;
  /** Every n-th request (1-based) has its connection dropped unanswered; 0 never. */
  dropEvery: number;
}

function sse(res: http.ServerResponse, data: unknown): void {
  res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

/** Streams one reply: a role chunk, max_tokens text chunks a tick apart, finish, usage, [DONE]. */
async function streamReply(fixture: Fixture, body: Record<string, unknown>, res: http.ServerResponse): Promise<void> {
  const content = ((body.messages as Array<{ content: string }>)[0]!).content;
  const promptTokens = TEMPLATE_TOKENS + TOKENS_PER_WORD * content.split(' ').length;
  const n = Number(body.max_tokens);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 0, model: body.model };
  sse(res, { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: null }, finish_reason: null }] });
  for (let i = 0; i < n; i++) {
    await new Promise((r) => setTimeout(r, 1));
    sse(res, { ...base, choices: [{ index: 0, delta: { content: ` t${i}` }, finish_reason: null }] });
  }
  sse(res, { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'length' }] });
  if (fixture.withUsage) {
    sse(res, {
      ...base,
      choices: [],
      usage: { prompt_tokens: promptTokens, completion_tokens: n, total_tokens: promptTokens + n },
      timings: { prompt_n: promptTokens, prompt_ms: 10, prompt_per_second: promptTokens * 100, predicted_n: n, cache_n: 0 },
    });
  }
  sse(res, '[DONE]');
  res.end();
}

async function startFixture(dir: string, name: string, options: { failEvery?: number; withUsage?: boolean; dropEvery?: number } = {}): Promise<Fixture> {
  const socketPath = path.join(dir, name);
  const fixture: Fixture = {
    server: http.createServer(), socketPath, received: [],
    failEvery: options.failEvery ?? 0, withUsage: options.withUsage ?? true, dropEvery: options.dropEvery ?? 0,
  };
  fixture.server.on('request', (req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (s: string) => (text += s));
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      fixture.received.push(body);
      if (fixture.dropEvery > 0 && fixture.received.length % fixture.dropEvery === 0) {
        req.socket.destroy();
      } else if (req.url !== '/engines/llama.cpp/v1/chat/completions') {
        res.writeHead(404).end('{"error":{"message":"no such route"}}');
      } else if (fixture.failEvery > 0 && fixture.received.length % fixture.failEvery === 0) {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"scripted failure"}}');
      } else {
        void streamReply(fixture, body, res);
      }
    });
  });
  await new Promise<void>((resolve) => fixture.server.listen(socketPath, resolve));
  return fixture;
}

function options(socketPath: string, over: Partial<BenchOptions> = {}): BenchOptions {
  return {
    endpoint: parseEndpoint(`unix:${socketPath}:/engines/llama.cpp/v1`),
    model: 'ai/fixture',
    concurrency: [1, 3],
    requests: 6,
    maxTokens: 12,
    prompt: { tokens: 45 },
    ignoreEos: true,
    warmup: 1,
    timeoutMs: 30_000,
    seed: 11,
    ...over,
  };
}

describe('bench client against a scripted SSE server on a Unix socket', () => {
  let dir: string;
  const fixtures: Fixture[] = [];
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bench-client-'));
  });
  after(async () => {
    for (const f of fixtures) await new Promise((r) => f.server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('counts every request and reports token totals and rates consistent with the stream', async () => {
    const fixture = await startFixture(dir, 'ok.sock');
    fixtures.push(fixture);
    const report = await runBench(options(fixture.socketPath));

    // One warm-up, two calibration probes, then 6 requests per level.
    assert.equal(fixture.received.length, 1 + 2 + 6 * 2);
    for (const body of fixture.received) {
      assert.equal(body.stream, true);
      assert.deepEqual(body.stream_options, { include_usage: true });
      assert.equal(body.ignore_eos, true);
    }
    const timed = fixture.received.slice(3).map((b) => (b.messages as Array<{ content: string }>)[0]!.content);
    assert.equal(new Set(timed).size, timed.length, 'every timed request has its own prompt');
    assert.equal(new Set(timed.map((t) => t.split(' ')[0])).size, timed.length, 'prompts differ from the first word on');

    // Calibration found the fixture's exact template overhead and tokens per word.
    assert.deepEqual(report.prompt.calibration, { overheadTokens: TEMPLATE_TOKENS, tokensPerWord: TOKENS_PER_WORD, measured: true });
    assert.equal(report.prompt.words, 20);

    assert.deepEqual(report.levels.map((l) => l.concurrency), [1, 3]);
    for (const level of report.levels) {
      assert.equal(level.requests, 6);
      assert.equal(level.errors, 0);
      assert.equal(level.tokenSource, 'usage');
      assert.equal(level.completionTokens, 6 * 12);
      assert.equal(level.promptTokens, 6 * 45);
      assert.equal(level.cachedPromptTokens, 0);
      assert.equal(level.ttftMs.count, 6);
      // Each first token follows a timer in the fixture, so every TTFT is a positive time; the
      // summary must be ordered. Nothing here depends on how fast the machine is.
      const ttft = level.ttftMs;
      assert.ok(ttft.min! > 0 && ttft.min! <= ttft.p50! && ttft.p50! <= ttft.p99! && ttft.p99! <= ttft.max!, JSON.stringify(ttft));
      assert.equal(level.decodeTps.count, 6);
      assert.ok(level.decodeTps.min! > 0);
      assert.ok(level.promptTps.min! > 0);
      assert.equal(level.serverPromptTps.p50, 4500);
      assert.ok(level.aggregateTps! > 0);
      assert.ok(Math.abs(level.aggregateTps! - level.completionTokens / (level.wallMs / 1000)) < 1e-9);
    }
  });

  it("sends exactly the prompts of another run with the same seed when given that run's word count", async () => {
    const calibrated = await startFixture(dir, 'calibrated.sock');
    const given = await startFixture(dir, 'given.sock');
    fixtures.push(calibrated, given);
    const first = await runBench(options(calibrated.socketPath, { concurrency: [1], requests: 3 }));
    const second = await runBench(options(given.socketPath, { concurrency: [1], requests: 3, promptWords: first.prompt.words! }));
    const contents = (f: Fixture) => f.received.map((b) => (b.messages as Array<{ content: string }>)[0]!.content);
    assert.equal(second.prompt.words, first.prompt.words);
    assert.deepEqual(contents(given), contents(calibrated));
  });

  it('uses the given word count rather than its own calibration', async () => {
    const fixture = await startFixture(dir, 'given-words.sock');
    fixtures.push(fixture);
    const report = await runBench(options(fixture.socketPath, { concurrency: [1], requests: 2, promptWords: 7 }));
    assert.equal(report.prompt.words, 7);
    const timed = fixture.received.slice(3).map((b) => (b.messages as Array<{ content: string }>)[0]!.content);
    assert.deepEqual(timed.map((t) => t.split(' ').length), [7, 7]);
  });

  it('counts failed requests as errors and keeps their message', async () => {
    const fixture = await startFixture(dir, 'failing.sock', { failEvery: 4 });
    fixtures.push(fixture);
    const report = await runBench(options(fixture.socketPath, { concurrency: [2], requests: 8, warmup: 0, prompt: { text: 'hello' } }));
    const level = report.levels[0]!;
    assert.equal(fixture.received.length, 8);
    assert.equal(level.requests, 8);
    assert.equal(level.errors, 2);
    assert.match(level.errorSamples[0]!, /HTTP 500: .*scripted failure/);
    assert.equal(level.completionTokens, 6 * 12);
  });

  it('sends a request again when the server drops its connection unanswered, and counts the retry', async () => {
    const fixture = await startFixture(dir, 'dropping.sock', { dropEvery: 3 });
    fixtures.push(fixture);
    const report = await runBench(options(fixture.socketPath, { concurrency: [1], requests: 4, warmup: 0, prompt: { text: 'hello' } }));
    const level = report.levels[0]!;
    assert.equal(level.requests, 4);
    assert.equal(level.errors, 0);
    assert.equal(level.retries, 1);
    assert.equal(fixture.received.length, 5);
    assert.equal(level.completionTokens, 4 * 12);
  });

  it('falls back to one token per text chunk when the server sends no usage', async () => {
    const fixture = await startFixture(dir, 'no-usage.sock', { withUsage: false });
    fixtures.push(fixture);
    const report = await runBench(options(fixture.socketPath, { concurrency: [2], requests: 4 }));
    const level = report.levels[0]!;
    assert.equal(report.prompt.calibration?.measured, false);
    assert.equal(level.tokenSource, 'chunks');
    assert.equal(level.completionTokens, 4 * 12);
    assert.equal(level.errors, 0);
  });

  it('prints a JSON report from the bench command and exits zero', async () => {
    const fixture = await startFixture(dir, 'cli.sock');
    fixtures.push(fixture);
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'src/cli.ts'), 'bench', '--url', `unix:${fixture.socketPath}`, '--model', 'm',
        '--concurrency', '1,2', '--requests', '2', '--max-tokens', '5', '--prompt-tokens', '25', '--json'],
      { cwd: root },
    );
    const report = JSON.parse(stdout) as { levels: Array<{ requests: number; completionTokens: number; errors: number }> };
    assert.deepEqual(report.levels.map((l) => [l.requests, l.completionTokens, l.errors]), [[2, 10, 0], [2, 10, 0]]);
  });
});
