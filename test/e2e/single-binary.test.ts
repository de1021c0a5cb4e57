/**
 * The single binary (`make binary`), used the way it ships: built here with the CPU backend only
 * (the CUDA and Vulkan ones add 650 MB of payload and nothing this machine can run), copied alone
 * into an empty directory, and run with an environment that holds only HOME and a PATH with
 * nothing on it, so no node and no node_modules are within reach. It unpacks its runtime files to
 * ~/.cache/model-runner, serves, pulls from a local registry and chats; a second start reuses the
 * files; an altered file is found by its hash and replaced.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startRegistry, type TestRegistry } from '../support/registry-harness.js';
import { makeTempDir, REPO_ROOT, runToCompletion, startServer, type CliResult, type ServerProcess } from '../support/server-harness.js';
import { sha256OfBytes } from './support/fixtures.js';

const UNPACKED = /model-runner: unpacked its runtime files \([\d.]+ MB\) to (\S+) in \d+ ms/;
const REPLACED = /model-runner: replaced (\d+) runtime file\(s\) in \S+ that were missing or did not match their hash \(([^)]*)\)/;

describe('the single binary, alone in an empty directory with no node on PATH', () => {
  let dir: string;
  let binary: string;
  let env: Record<string, string>;
  let registry: TestRegistry | undefined;
  let server: ServerProcess | undefined;
  let reference: string;

  /** Runs the binary to completion in its directory with the bare environment (plus `extra`). */
  const runBinary = (args: string[], extra: Record<string, string> = {}): Promise<CliResult> => runToCompletion(binary, args, path.dirname(binary), { ...env, ...extra });
  const runBinaryOk = async (args: string[], extra: Record<string, string> = {}): Promise<CliResult> => {
    const result = await runBinary(args, extra);
    assert.equal(result.code, 0, `model-runner ${args.join(' ')} exited with ${result.code}:\n${result.stderr}${result.stdout}`);
    return result;
  };
  const runtimeDir = async (): Promise<string> => {
    const ids = await fs.readdir(path.join(env.HOME!, '.cache', 'model-runner'));
    assert.equal(ids.length, 1, `one build's folder: ${ids.join(', ')}`);
    return path.join(env.HOME!, '.cache', 'model-runner', ids[0]!);
  };
  const chat = async (): Promise<string> => {
    const reply = await server!.request('/engines/v1/chat/completions', {
      body: { model: reference, messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 8 },
    });
    assert.equal(reply.status, 200, reply.text);
    return (reply.json() as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;
  };

  before(async () => {
    dir = await makeTempDir('mr-e2e-binary-');
    const built = path.join(dir, 'build', 'model-runner');
    await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/binary/build.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, BINARY_BACKENDS: 'cpu', BINARY_OUT: built, BINARY_WORK: path.join(dir, 'build', 'work') },
      maxBuffer: 16 << 20,
    });
    const runDir = path.join(dir, 'run');
    const emptyPath = path.join(dir, 'bin');
    await Promise.all([fs.mkdir(runDir), fs.mkdir(emptyPath), fs.mkdir(path.join(dir, 'home'))]);
    binary = path.join(runDir, 'model-runner');
    await fs.copyFile(built, binary);
    await fs.chmod(binary, 0o755);
    env = { HOME: path.join(dir, 'home'), PATH: emptyPath };
    registry = await startRegistry('anonymous');
    reference = registry.reference('ai/binary-tiny', 'latest');
  });

  after(async () => {
    await server?.dispose();
    await registry?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test('two first starts at once both run: one unpacks the runtime files into ~/.cache/model-runner, the other uses them', async () => {
    const { version } = JSON.parse(await fs.readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const [a, b] = await Promise.all([runBinaryOk(['--version']), runBinaryOk(['--version'])]);
    assert.equal(a.stdout.trim(), version);
    assert.equal(b.stdout.trim(), version);
    const lines = [a.stderr, b.stderr].filter((stderr) => UNPACKED.test(stderr));
    assert.equal(lines.length, 1, `exactly one start unpacked:\n${a.stderr}\n---\n${b.stderr}`);
    const folder = await runtimeDir();
    assert.equal(UNPACKED.exec(lines[0]!)![1], folder);
    for (const file of ['package.json', 'dist/engine/worker/main.js', 'build/Release/peer_credentials.node', 'node_modules/node-llama-cpp/package.json']) {
      await fs.access(path.join(folder, file));
    }
    const leftovers = (await fs.readdir(path.dirname(folder))).filter((name) => name.endsWith('.tmp'));
    assert.deepEqual(leftovers, [], 'no staging folder is left behind');
    assert.deepEqual(await fs.readdir(path.dirname(binary)), ['model-runner'], 'nothing is written beside the binary');
  });

  test('the binary generates and pushes a model, serves, pulls it from a local registry and chats over the socket', async () => {
    const gguf = path.join(dir, 'tiny.gguf');
    await runBinaryOk(['generate-model', '--preset', 'tiny', '--type', 'q8_0', '--seed', '23', '--out', gguf]);
    const pushed = await runBinaryOk(['package', '--gguf', gguf, '--push', reference]);
    assert.doesNotMatch(pushed.stderr, UNPACKED);
    server = await startServer({ executable: binary, bareEnv: true, env, args: ['--threads', '1', '--parallel', '1'] });
    await runBinaryOk(['pull', reference], { MODEL_RUNNER_SOCK: server.socketPath });
    const listed = (await runBinaryOk(['ls', '--json'], { MODEL_RUNNER_SOCK: server.socketPath })).stdout;
    assert.match(listed, /binary-tiny/);
    assert.ok((await chat()).length > 0, 'the model answered');
    // The admission check ran in a child the binary forked of itself, the model in a Worker.
    await server.waitForOutput(/model admitted model=\S*binary-tiny/);
    assert.match(await server.waitForOutput(/model loaded /), /isolation=thread/);
    const run = await runBinaryOk(['run', reference, 'Hi'], { MODEL_RUNNER_SOCK: server.socketPath });
    assert.ok(run.stdout.trim().length > 0, 'run printed an answer');
  });

  test("the other commands work from the binary against its server: status, version, df, inspect, tag, push, rm, list, ps, requests, bench, unload, configure, export, purge, load, demo", async () => {
    const sock = { MODEL_RUNNER_SOCK: server!.socketPath };
    const cli = (...args: string[]) => runBinaryOk(args, sock);
    assert.match((await cli('status')).stdout, /running/);
    assert.match((await cli('version')).stdout, /\d+\.\d+\.\d+/);
    // The engine's size is measured from the unpacked backend package, found from the bundle.
    assert.doesNotMatch((await cli('df')).stdout, /^Inference engine\s+0B$/m);
    const id = (JSON.parse((await cli('inspect', reference)).stdout) as { id: string }).id;
    const second = registry!.reference('ai/binary-tiny', 'v2');
    await cli('tag', reference, second);
    await cli('push', second);
    // The registry now serves the second name, for the same manifest as the first.
    const manifestDigest = async (tag: string) => {
      const res = await fetch(`http://${registry!.url}/v2/ai/binary-tiny/manifests/${tag}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(res.status, 200, `the registry has ai/binary-tiny:${tag}`);
      return res.headers.get('docker-content-digest');
    };
    assert.equal(await manifestDigest('v2'), await manifestDigest('latest'));
    await cli('rm', second);
    assert.doesNotMatch((await cli('list')).stdout, /\bv2\b/, 'rm removed the second name');
    assert.match((await cli('ps')).stdout, /binary-tiny/);
    assert.match((await cli('requests')).stdout, /POST \/engines\/v1\/chat\/completions/, 'the run above is in the request history');
    const bench = await cli('bench', '--url', `unix:${server!.socketPath}`, '--model', reference, '--concurrency', '1', '--requests', '1', '--warmup', '0', '--max-tokens', '2', '--prompt', 'Hi', '--json');
    assert.equal((JSON.parse(bench.stdout) as { levels: Array<{ requests: number; errors: number }> }).levels[0]?.errors, 0);
    assert.match((await cli('unload', '--all')).stdout, /Unloaded 1 model\./);
    await cli('configure', reference, '--context-size', '1024');
    assert.equal((JSON.parse((await cli('configure', 'show', reference)).stdout) as Array<{ Config: Record<string, unknown> }>)[0]?.Config['context-size'], 1024);
    const archive = path.join(dir, 'tiny.tar');
    await cli('export', reference, '-o', archive);
    await cli('purge', '-f');
    assert.equal((await cli('ls', '--json')).stdout.trim(), '[]');
    assert.match((await cli('load', archive, '--tag', reference)).stdout, new RegExp(`Model loaded successfully: ${id}`));
    // demo writes into a store no server holds.
    assert.match((await runBinaryOk(['demo', '--models-path', path.join(dir, 'demo-store')])).stdout, /sha256:[0-9a-f]{64}/);
  });

  test('a second start reuses the unpacked files without writing one, and runs an isolated engine child from them', async () => {
    const folder = await runtimeDir();
    const watched = ['dist/engine/worker/engine-child.js', 'node_modules/node-llama-cpp/dist/index.js', '.verified.json'].map((f) => path.join(folder, f));
    const before = await Promise.all(watched.map((f) => fs.stat(f)));
    await server!.restart({ args: ['--threads', '1', '--parallel', '1', '--isolation', 'process'] });
    assert.ok((await chat()).length > 0, 'the isolated model answered');
    assert.match(await server!.waitForOutput(/model loaded /), /isolation=process/);
    assert.doesNotMatch(server!.output(), UNPACKED);
    assert.doesNotMatch(server!.output(), REPLACED);
    const after = await Promise.all(watched.map((f) => fs.stat(f)));
    assert.deepEqual(
      after.map((s) => [s.ino, s.mtimeMs]),
      before.map((s) => [s.ino, s.mtimeMs]),
      'the files and the stamp are the ones the first start wrote',
    );
    assert.equal(await server!.stop(), 0);
  });

  test('an unpacked file altered in place, size and mtime kept, is found by its hash and replaced; a deleted one is restored', async () => {
    const folder = await runtimeDir();
    const script = path.join(folder, 'dist/engine/worker/main.js');
    const addon = path.join(folder, 'build/Release/peer_credentials.node');
    const original = await fs.readFile(script);
    const stats = await fs.stat(script);
    await fs.writeFile(script, Buffer.alloc(original.length, 0x20));
    await fs.utimes(script, stats.atime, stats.mtime);
    await fs.rm(addon);

    const result = await runBinaryOk(['--version']);
    const replaced = REPLACED.exec(result.stderr);
    assert.ok(replaced, `a replacement was reported:\n${result.stderr}`);
    assert.equal(replaced[1], '2');
    assert.deepEqual(replaced[2]!.split(', ').sort(), ['build/Release/peer_credentials.node', 'dist/engine/worker/main.js']);
    assert.equal(sha256OfBytes(await fs.readFile(script)), sha256OfBytes(original));
    await fs.access(addon);
    assert.doesNotMatch((await runBinaryOk(['--version'])).stderr, REPLACED, 'the next start finds everything in order');
  });

  test('a cache directory that cannot be written is refused at start with the path and the reason, exit code 1', async () => {
    const home = path.join(dir, 'home-with-a-file-for-cache');
    await fs.mkdir(home);
    await fs.writeFile(path.join(home, '.cache'), 'not a directory');
    const result = await runBinary(['--version'], { HOME: home });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^model-runner: cannot prepare its runtime files: ENOTDIR: not a directory, mkdir '.*home-with-a-file-for-cache\/\.cache\/model-runner'/);
    assert.equal(result.stdout, '');
  });
});
