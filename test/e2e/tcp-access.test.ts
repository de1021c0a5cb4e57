/**
 * The TCP listener of the compiled server: its Host check against DNS rebinding, the optional API
 * key, inference over it, the refusal to open a non-loopback address without a key, and a port
 * that is taken. The Unix socket is exempt from both checks; each test also asks it, to show that.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDemoServer } from '../support/demo-server.js';
import { tcpBaseUrl } from '../support/sdk-clients.js';
import { makeTempDir, runCli, type ServerProcess, startServer } from '../support/server-harness.js';
import { parseSse } from '../support/http-client.js';

const API_KEY = 'test-key-0123456789';

describe('the TCP listener without an API key', () => {
  let server: ServerProcess;

  before(async () => {
    server = await startServer({ args: ['--port', '0', '--allowed-hosts', 'models.internal,*.lab.example'] });
  });

  after(async () => {
    await server?.dispose();
  });

  test('loopback names and addresses in Host are answered', async () => {
    const port = server.tcpPort()!;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST']) {
      const reply = await server.tcpRequest('/models', { headers: { host } });
      assert.equal(reply.status, 200, host);
    }
  });

  test('a Host that names another site (DNS rebinding) is refused with 403 and a message that says how to allow it', async () => {
    const reply = await server.tcpRequest('/models', { headers: { host: 'rebind.attacker.example' } });
    assert.equal(reply.status, 403);
    assert.match(reply.text, /Host "rebind\.attacker\.example" is not allowed/);
    assert.match(reply.text, /--allowed-hosts \(MODEL_RUNNER_ALLOWED_HOSTS\)/);
  });

  test('the refusal comes in the dialect of the path: OpenAI error JSON under /v1, Ollama {error} under /api', async () => {
    const openai = await server.tcpRequest('/v1/models', { headers: { host: 'evil.example' } });
    assert.equal(openai.status, 403);
    assert.equal(openai.json().error.type, 'permission_error');
    assert.equal(openai.json().error.code, 'forbidden');
    assert.match(openai.json().error.message, /Host "evil\.example" is not allowed/);
    const ollama = await server.tcpRequest('/api/tags', { headers: { host: 'evil.example' } });
    assert.equal(ollama.status, 403);
    assert.match(ollama.json().error, /Host "evil\.example" is not allowed/);
  });

  test('hosts listed in --allowed-hosts are answered, exactly or as subdomains of a *. entry', async () => {
    for (const host of ['models.internal', 'models.internal:8080', 'gpu1.lab.example']) {
      assert.equal((await server.tcpRequest('/models', { headers: { host } })).status, 200, host);
    }
    assert.equal((await server.tcpRequest('/models', { headers: { host: 'lab.example' } })).status, 403);
  });

  test('the Unix socket answers whatever Host its clients send, and needs no key', async () => {
    const reply = await server.request('/models', { headers: { host: 'rebind.attacker.example' } });
    assert.equal(reply.status, 200);
  });
});

describe('the TCP listener with MODEL_RUNNER_API_KEY, bound to every address', () => {
  let server: ServerProcess;

  before(async () => {
    ({ server } = await startDemoServer({ args: ['--port', '0', '--host', '0.0.0.0', '--threads', '1'], env: { MODEL_RUNNER_API_KEY: API_KEY } }));
  });

  after(async () => {
    await server?.dispose();
  });

  test('with the key, a streamed chat over TCP is answered by the engine, as on the socket', async () => {
    const body = { model: 'ai/demo', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 4, ignore_eos: true, stream: true };
    const reply = await server.tcpRequest('/engines/v1/chat/completions', { headers: { authorization: `Bearer ${API_KEY}` }, body });
    assert.equal(reply.status, 200, reply.text);
    const frames = await parseSse(reply.text);
    assert.equal(frames.at(-1), '[DONE]');
    assert.equal(JSON.parse(frames.at(-2)!).choices[0].finish_reason, 'length');
    const refused = await server.tcpRequest('/engines/v1/chat/completions', { body });
    assert.equal(refused.status, 401, 'the same request without the key never reaches the engine');
  });

  test('a request without a key is a 401 with WWW-Authenticate: Bearer that says how to send one', async () => {
    const reply = await server.tcpRequest('/models');
    assert.equal(reply.status, 401);
    assert.match(String(reply.headers['www-authenticate']), /^Bearer\b/);
    assert.match(reply.text, /Authorization: Bearer <key> or x-api-key: <key>/);
  });

  test('a wrong key is a 401, in OpenAI\'s shape on OpenAI paths and Ollama\'s under /api', async () => {
    const openai = await server.tcpRequest('/v1/models', { headers: { authorization: 'Bearer not-the-key' } });
    assert.equal(openai.status, 401);
    assert.equal(openai.json().error.type, 'authentication_error');
    assert.equal(openai.json().error.code, 'unauthorized');
    assert.equal(openai.json().error.message, 'the API key is not valid');
    const ollama = await server.tcpRequest('/api/tags', { headers: { 'x-api-key': `${API_KEY}x` } });
    assert.equal(ollama.status, 401);
    assert.deepEqual(ollama.json(), { error: 'the API key is not valid' });
  });

  test('the key is accepted as Authorization: Bearer (OpenAI SDKs) and as x-api-key (Anthropic SDKs)', async () => {
    assert.equal((await server.tcpRequest('/models', { headers: { authorization: `Bearer ${API_KEY}` } })).status, 200);
    assert.equal((await server.tcpRequest('/v1/models', { headers: { 'x-api-key': API_KEY } })).status, 200);
  });

  test('a CORS preflight from an allowed origin is answered without a key, since browsers send none with it', async () => {
    const reply = await server.tcpRequest('/v1/chat/completions', {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    assert.equal(reply.status, 204);
    assert.match(String(reply.headers['access-control-allow-headers']), /Authorization/);
  });

  test('the CLI sends MODEL_RUNNER_API_KEY to a --url target, and without it reports the server\'s refusal', async () => {
    const url = tcpBaseUrl(server);
    const withKey = await runCli(['ls', '--url', url], { MODEL_RUNNER_API_KEY: API_KEY });
    assert.equal(withKey.code, 0, withKey.stderr);
    const without = await runCli(['ls', '--url', url], { MODEL_RUNNER_API_KEY: '' });
    assert.notEqual(without.code, 0);
    assert.match(without.stderr, /an API key is required/);
  });

  test('the Unix socket needs no key: its file mode decides who may connect', async () => {
    assert.equal((await server.request('/models')).status, 200);
  });
});

describe('binding a non-loopback address', () => {
  let dir: string;

  before(async () => {
    dir = await makeTempDir('mr-e2e-bind-');
  });

  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('without an API key the server refuses to start and says what to do', async () => {
    const result = await runCli(
      ['serve', '--socket', path.join(dir, 'refused.sock'), '--models-path', path.join(dir, 'models'), '--port', '0', '--host', '0.0.0.0'],
      { MODEL_RUNNER_API_KEY: '' },
    );
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /refusing to listen on 0\.0\.0\.0 without an API key/);
    assert.match(result.stderr, /MODEL_RUNNER_API_KEY/);
    assert.match(result.stderr, /--host 127\.0\.0\.1/);
    assert.match(result.stderr, /--insecure-bind/);
  });

  test('a port that another process holds: the server refuses to start, names the address, and leaves no socket behind', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as net.AddressInfo;
    const socket = path.join(dir, 'taken-port.sock');
    try {
      const result = await runCli(['serve', '--socket', socket, '--models-path', path.join(dir, 'models'), '--port', String(port)]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`));
      await assert.rejects(fs.lstat(socket), { code: 'ENOENT' }, 'the socket it had opened is closed and removed');
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  test('with --insecure-bind it starts, and warns', async () => {
    const server = await startServer({ args: ['--port', '0', '--host', '0.0.0.0', '--insecure-bind'], env: { MODEL_RUNNER_API_KEY: '' } });
    try {
      assert.equal((await server.tcpRequest('/models')).status, 200);
      assert.match(server.output(), /non-loopback address without an API key/);
    } finally {
      await server.dispose();
    }
  });
});
