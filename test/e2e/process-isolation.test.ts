/**
 * `serve --isolation process` in the compiled server: each model's engine is a child process.
 * Chat works through the HTTP API as with Workers, a child killed from outside costs only that
 * model (the server stays up and the next request loads a fresh child), and a child does not
 * outlive a server that dies, even with its event loop stuck.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HANG_FAULT_MARKER, HANG_FAULT_NOTICE, TEST_FAULTS_ENV } from '../../src/engine/worker/test-faults.js';
import { startDemoServer } from '../support/demo-server.js';
import { type ServerProcess } from '../support/server-harness.js';
import { openRequest } from '../support/http-client.js';
import { waitUntil } from './support/wait.js';
import { isProcessAlive } from '../support/processes.js';

const DEMO = 'ai/demo';
const SERVER_ARGS = ['--isolation', 'process', '--threads', '1', '--parallel', '1', '--context-size', '2048', '--log-level', 'info'];

/** The pids of the engine processes the server reported loading, in order. */
function loadedPids(output: string): number[] {
  return [...output.matchAll(/model loaded .*isolation=process pid=(\d+)/g)].map((m) => Number(m[1]));
}

describe('the compiled server with --isolation process', () => {
  let server: ServerProcess;

  const chat = () => server.request('/engines/v1/chat/completions', { body: { model: DEMO, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 6 } });

  before(async () => {
    ({ server } = await startDemoServer({ args: SERVER_ARGS }));
  });

  after(async () => {
    const code = await server?.dispose();
    assert.equal(code, 0, `the server exits cleanly on SIGTERM, stopping its engine processes:\n${server?.output()}`);
  });

  test('a chat completion is answered by the model running in its own process', async () => {
    const reply = await chat();
    assert.equal(reply.status, 200, reply.text);
    const body = reply.json() as { choices: Array<{ message: { content: string } }>; usage: { completion_tokens: number } };
    assert.equal(typeof body.choices[0]!.message.content, 'string');
    assert.ok(body.usage.completion_tokens > 0);
    const pids = loadedPids(server.output());
    assert.equal(pids.length, 1, server.output());
    assert.notEqual(pids[0], server.pid);
  });

  test('killing the engine process leaves the server up, and the next chat loads a fresh one', async () => {
    const [pid] = loadedPids(server.output());
    process.kill(pid!, 'SIGKILL');
    await waitUntil('the server to notice the killed engine', async () => server.output().includes(`the engine process of model ${DEMO} was killed by SIGKILL`));
    assert.ok(server.running);
    const reply = await chat();
    assert.equal(reply.status, 200, reply.text);
    const pids = loadedPids(server.output());
    assert.equal(pids.length, 2, server.output());
    assert.notEqual(pids[1], pid);
  });
});

describe('an engine process whose server dies', () => {
  let server: ServerProcess;
  let engine: number | undefined;

  before(async () => {
    ({ server } = await startDemoServer({ args: SERVER_ARGS, env: { [TEST_FAULTS_ENV]: '1' } }));
  });

  after(async () => {
    // Should the test fail, a stuck orphan would spin a core and hold the server's output open.
    if (engine !== undefined && isProcessAlive(engine)) process.kill(engine, 'SIGKILL');
    await server?.dispose();
  });

  test('ends by itself even while its event loop is blocked', async () => {
    const body = { model: DEMO, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 500, ignore_eos: true, stop: [HANG_FAULT_MARKER] };
    // Not awaited: no answer comes from a hung engine, and the server is about to die under it.
    void openRequest(server.socketPath, '/engines/v1/chat/completions', { body }).catch(() => {});
    await waitUntil('the engine to hang', async () => server.output().includes(HANG_FAULT_NOTICE));
    const [pid] = loadedPids(server.output());
    assert.ok(pid !== undefined && isProcessAlive(pid), server.output());
    engine = pid;
    process.kill(server.pid!, 'SIGKILL');
    await waitUntil('the orphaned engine process to end', async () => !isProcessAlive(pid));
  });
});
