/**
 * The README's "Clients" section, run as written against the compiled server: its TypeScript
 * block with the official clients, and its curl lines for reranking and the tokenizer routes.
 * Only where the server listens is put in (the README's port and socket name are a user's);
 * the model names stay, given to the demo models by tags.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startDemoServer } from '../support/demo-server.js';
import type { ServerProcess } from '../support/server-harness.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);

/** The fenced blocks of one README section, by their language tag. */
async function readmeBlocks(section: string): Promise<Array<{ language: string; code: string }>> {
  const readme = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${section}\n`);
  assert.ok(start >= 0, `the README has a "${section}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  const text = readme.slice(start, end < 0 ? undefined : end);
  return [...text.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ language: m[1]!, code: m[2]! }));
}

describe("the README's client examples", () => {
  let server: ServerProcess;

  before(async () => {
    // 512 cells hold the continued Responses conversation only because the README bounds both answers
    // (max_output_tokens): the random-weight demo model may otherwise talk until its context is full.
    ({ server } = await startDemoServer({ reranker: true, args: ['--port', '0', '--threads', '1', '--context-size', '512'] }));
    // The README's chat examples name ai/smollm2: here it is the demo model under that name.
    const tagged = await server.request('/models/ai/demo/tag?repo=ai/smollm2&tag=latest', { method: 'POST' });
    assert.ok(tagged.status < 300, tagged.text);
  });

  after(async () => {
    await server?.dispose();
  });

  test('the TypeScript block runs with the openai, @anthropic-ai/sdk and ollama clients: chat, a continued Responses conversation, a message and an Ollama chat', async () => {
    const blocks = (await readmeBlocks('Clients')).filter((b) => b.language === 'ts');
    assert.equal(blocks.length, 1);
    const address = `127.0.0.1:${server.tcpPort()}`;
    const code = `${blocks[0]!.code.replaceAll('127.0.0.1:12434', address)}
console.log(JSON.stringify({ chat: chat.object, next: next.object, previous: next.previous_response_id === first.id, message: message.type, reply: reply.message.role }));
`;
    // Inside the project, so that the clients resolve from its node_modules.
    const script = path.join(ROOT, 'dist', `readme-clients-${process.pid}.mjs`);
    await fs.writeFile(script, code);
    try {
      const { stdout } = await run(process.execPath, [script], { cwd: ROOT });
      assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1)!), { chat: 'chat.completion', next: 'response', previous: true, message: 'message', reply: 'assistant' });
    } finally {
      await fs.rm(script, { force: true });
    }
  });

  test('the curl lines rerank, tokenize and apply a template over the socket', async () => {
    const blocks = (await readmeBlocks('Clients')).filter((b) => b.language === 'sh');
    assert.equal(blocks.length, 1);
    const commands = blocks[0]!.code.replaceAll('\\\n', ' ').split('\n').map((line) => line.trim()).filter(Boolean);
    assert.equal(commands.length, 3);
    const answers = [];
    for (const command of commands) {
      const { stdout } = await run('bash', ['-c', command.replaceAll('model-runner.sock', server.socketPath)]);
      answers.push(JSON.parse(stdout) as Record<string, unknown>);
    }
    const [rerank, tokens, template] = answers as [{ results: Array<{ index: number; relevance_score: number }> }, { tokens: Array<{ id: number; piece: string }> }, { prompt: string }];
    assert.equal(rerank.results.length, 2);
    assert.ok(rerank.results.every((r) => typeof r.relevance_score === 'number'));
    assert.equal(tokens.tokens.map((t) => t.piece).join(''), 'Hello world');
    assert.match(template.prompt, /Hello/);
  });
});
