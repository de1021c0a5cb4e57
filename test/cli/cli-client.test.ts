/**
 * The client commands run as a real process against a protocol fixture: a small HTTP server on
 * a Unix socket that answers a few routes with the shapes Docker Model Runner uses. It pins the
 * wire contract from the client's side; the real server is exercised elsewhere.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `model-runner <args>` from source; `input` is written to its stdin, which is then closed. */
function cli(args: string[], input = ''): Promise<Run> {
  const env = { ...process.env };
  delete env.MODEL_RUNNER_SOCK;
  delete env.MODEL_RUNNER_HOST_URL;
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

const MODEL_ID = `sha256:0123456789ab${'c'.repeat(52)}`;
const MODELS = [
  {
    id: MODEL_ID,
    tags: ['docker.io/ai/smollm2:latest', 'docker.io/ai/smollm2:360M-Q4_K_M'],
    created: Math.floor(Date.now() / 1000) - 3 * 86400,
    config: { format: 'gguf', quantization: 'Q4_K_M', parameters: '361.82M', architecture: 'llama', size: '256.35MiB' },
  },
];

/** Go's html.EscapeString, which Docker applies to text/plain progress lines. */
const escapeHtml = (text: string) => text.replace(/[&'<>"]/g, (c) => ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;' })[c]!);

async function readBody(req: http.IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

/** Answers the routes the tests use; records the requests it saw. */
function fixture(seen: Array<{ method: string; url: string; accept?: string; body: string }>): http.Server {
  return http.createServer(async (req, res) => {
    const body = await readBody(req);
    seen.push({ method: req.method!, url: req.url!, accept: req.headers.accept, body });
    const route = `${req.method} ${req.url}`;
    if (route === 'GET /models') {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(MODELS));
    } else if (route === 'GET /models/smollm2') {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(MODELS[0]));
    } else if (route.startsWith('GET /models/')) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`error while getting model: model "${decodeURIComponent(req.url!.slice('/models/'.length))}" not found\n`);
    } else if (route === 'POST /models/create') {
      const { from } = JSON.parse(body) as { from: string };
      // Docker's rule: raw JSON only for Accept: application/json; "ai/escaped" plays a server that always escapes.
      const json = req.headers.accept === 'application/json' && from !== 'ai/escaped';
      res.writeHead(200, { 'Content-Type': json ? 'application/json' : 'text/plain; charset=utf-8' });
      const layer = { id: `sha256:feedfacecafe${'0'.repeat(52)}`, size: 2_000_000 };
      for (const current of [0, 1_000_000, 2_000_000]) {
        const line = JSON.stringify({ type: 'progress', message: `Downloaded: ${(current / 1e6).toFixed(2)} MB`, total: 2_000_000, layer: { ...layer, current }, mode: 'pull' });
        res.write(`${json ? line : escapeHtml(line)}\n`);
      }
      const done = JSON.stringify({ type: 'success', message: `Model pulled successfully: "${from}"` });
      res.end(`${json ? done : escapeHtml(done)}\n`);
    } else if (route === 'POST /engines/v1/chat/completions') {
      const request = JSON.parse(body) as { model: string; stream: boolean; messages: Array<{ content: string }> };
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      const reply = ['You said', ': ', request.messages.at(-1)!.content];
      for (const piece of reply) res.write(`data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: piece } }] })}\n\n`);
      res.end('data: [DONE]\n\n');
    } else if (route === 'GET /') {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('Docker Model Runner is running');
    } else if (route === 'GET /engines/status') {
      res.setHeader('Content-Type', 'application/json');
      res.end('{"llama.cpp":"Running: llama.cpp cpu v0.4.0"}');
    } else if (route === 'GET /version') {
      res.setHeader('Content-Type', 'application/json');
      res.end('{"version":"9.9.9"}');
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`no route for ${route}\n`);
    }
  });
}

describe('the client commands against a protocol fixture', () => {
  let dir: string;
  let socket: string;
  let server: http.Server;
  const seen: Array<{ method: string; url: string; accept?: string; body: string }> = [];

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mr-cli-client-'));
    socket = path.join(dir, 'api.sock');
    server = fixture(seen);
    await new Promise<void>((resolve) => server.listen(socket, resolve));
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('ls --json prints the server JSON unchanged in content', async () => {
    const run = await cli(['ls', '--json', '--socket', socket]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), MODELS);
  });

  test('ls prints a table with the short ID and the names stripped of docker.io/, ai/ and :latest', async () => {
    const run = await cli(['ls', '--socket', socket]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n').map((line) => line.split(/\s{2,}/));
    assert.deepEqual(lines, [
      ['ID', 'MODEL', 'PARAMETERS', 'QUANTIZATION', 'ARCHITECTURE', 'CREATED', 'SIZE'],
      ['0123456789ab', 'smollm2', '361.82M', 'Q4_K_M', 'llama', '3 days ago', '256.35MiB'],
      ['0123456789ab', 'smollm2:360M-Q4_K_M', '361.82M', 'Q4_K_M', 'llama', '3 days ago', '256.35MiB'],
    ]);
  });

  test('an error status prints the server message and exits 1', async () => {
    const run = await cli(['inspect', 'ai/absent', '--socket', socket]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /error while getting model: model "ai\/absent" not found/);
  });

  test('a missing socket says the server is not running and how to start it', async () => {
    const missing = path.join(dir, 'nothing-here.sock');
    const run = await cli(['ls', '--socket', missing]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`model-runner is not running \\(no socket at ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\); start it with \`model-runner serve\``));
  });

  test('status reports the engines of a running server and exits 1 when none runs', async () => {
    const running = await cli(['status', '--socket', socket]);
    assert.equal(running.code, 0, running.stderr);
    assert.match(running.stdout, /^Docker Model Runner is running \(.*api\.sock\)\n\nStatus:\nllama\.cpp: Running: llama\.cpp cpu v0\.4\.0\n$/);
    const stopped = await cli(['status', '--socket', path.join(dir, 'nothing-here.sock')]);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /model-runner is not running/);
  });

  test('pull asks for raw JSON, prints progress lines per layer and ends with the success line', async () => {
    const run = await cli(['pull', 'ai/smollm2', '--socket', socket]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stderr.trimEnd().split('\n'), ['Downloading feedfacecafe: 0B / 2.00MB (0%)', 'Downloading feedfacecafe: 1.00MB / 2.00MB (50%)', 'Downloaded feedfacecafe: 2.00MB']);
    assert.equal(run.stdout, 'Model pulled successfully: "ai/smollm2"\n');
    const request = seen.find((r) => r.url === '/models/create' && r.body.includes('ai/smollm2'));
    assert.equal(request?.accept, 'application/json');
    assert.deepEqual(JSON.parse(request!.body), { from: 'ai/smollm2' });
  });

  test('pull unescapes the HTML-escaped lines of a text/plain progress stream', async () => {
    const run = await cli(['pull', 'ai/escaped', '--socket', socket]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'Model pulled successfully: "ai/escaped"\n');
    assert.match(run.stderr, /Downloaded feedfacecafe: 2\.00MB/);
  });

  test('run with a prompt streams the answer content to stdout', async () => {
    const run = await cli(['run', 'smollm2', 'hello', 'there', '--socket', socket]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'You said: hello there\n');
    const request = seen.filter((r) => r.url === '/engines/v1/chat/completions').at(-1);
    assert.deepEqual(JSON.parse(request!.body), { model: 'smollm2', messages: [{ role: 'user', content: 'hello there' }], stream: true });
  });

  test('run without a prompt and without a terminal reads the prompt from stdin', async () => {
    const run = await cli(['run', 'smollm2', '--socket', socket], 'piped question\n');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'You said: piped question\n');
  });

  test('version prints the client version and the server one', async () => {
    const run = await cli(['version', '--socket', socket]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Client:\n Version: \S+\nServer:\n Version: 9\.9\.9\n$/);
  });
});
