/**
 * The CLI's commands against the real server, as a user types them: --help, an unknown command,
 * tag, ls, run (with a prompt, and the interactive chat on a pseudo-terminal), ps, df, configure,
 * unload, export, rm, load and purge. One server on a store holding the demo model.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDemoServer } from '../support/demo-server.js';
import { CLI_PATH, REPO_ROOT, runCli, runCliOk, type ServerProcess } from '../support/server-harness.js';

describe('the CLI against a running server', () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  before(async () => {
    ({ server } = await startDemoServer({ args: ['--threads', '1', '--parallel', '1', '--log-level', 'warn'] }));
    env = { MODEL_RUNNER_SOCK: server.socketPath };
  });
  after(async () => {
    await server?.dispose();
  });

  const cli = (...args: string[]) => runCliOk(args, env);
  const loaded = async () => JSON.parse((await cli('ps', '--json')).stdout) as Array<{ model_name: string; context_size: number }>;

  test('--help lists the commands and exits 0; an unknown command names itself and exits 2', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    for (const command of ['serve', 'pull', 'push', 'run', 'ps', 'df', 'unload', 'configure', 'export', 'load', 'purge']) assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));
    const unknown = await runCli(['bogus'], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "bogus"/);
  });

  test('every command answers --help with its own usage and exits 0, serve with its options', async () => {
    const commands = [...(await runCli(['--help'])).stdout.matchAll(/^  ([a-z][a-z-]*) {2,}/gm)].map((m) => m[1]!);
    assert.ok(commands.length >= 20, `the command list was read (${commands.length} commands)`);
    for (const command of commands) {
      const help = await runCli([command, '--help'], env);
      assert.equal(help.code, 0, `${command} --help exits 0 (stderr: ${help.stderr})`);
      const shown = command === 'list' ? 'ls' : command;
      assert.match(help.stdout, new RegExp(`^Usage: model-runner ${shown}\\b`, 'm'), `${command} --help prints its usage`);
    }
    const serve = (await runCli(['serve', '-h'], env)).stdout;
    for (const option of ['--socket', '--models-path', '--threads', '--kv-unified']) assert.match(serve, new RegExp(`^  ${option} `, 'm'));
  });

  test('tag gives the model a second name that ls lists with the same short ID', async () => {
    assert.match((await cli('tag', 'ai/demo', 'mine/demo:v1')).stdout, /Model tagged successfully with "mine\/demo:v1"/);
    const rows = (await cli('ls')).stdout.trim().split('\n').slice(1).map((line) => line.split(/\s{2,}/));
    assert.deepEqual(rows.map((r) => r[1]).sort(), ['demo', 'mine/demo:v1']);
    assert.equal(rows[0]![0], rows[1]![0]);
  });

  test('run with a prompt answers, ps then shows the model loaded, and unload --all empties ps', async () => {
    const run = await cli('run', 'ai/demo', 'Hello there');
    assert.ok(run.stdout.trim().length > 0, 'an answer was printed');
    assert.deepEqual((await loaded()).map((m) => m.model_name), ['ai/demo']);
    assert.match((await cli('ps')).stdout, /^MODEL NAME\s+BACKEND/m);
    assert.match((await cli('unload', '--all')).stdout, /Unloaded 1 model\./);
    assert.deepEqual(await loaded(), []);
  });

  test('df shows the store, the engine, the free space and what could be freed', async () => {
    const df = (await cli('df')).stdout;
    assert.match(df, /^Models\s+\d/m);
    assert.match(df, /^Inference engine\s+\d/m);
    assert.match(df, /Free in the model store's file system: \d/);
    assert.match(df, /Reclaimable: /);
  });

  test('configure sets a context size that the next load uses, and configure show lists it', async () => {
    await cli('configure', 'ai/demo', '--context-size', '1024');
    const shown = JSON.parse((await cli('configure', 'show', 'ai/demo')).stdout) as Array<{ Config: Record<string, unknown> }>;
    assert.equal(shown[0]?.Config['context-size'], 1024);
    await cli('run', 'ai/demo', 'Hi');
    assert.equal((await loaded())[0]?.context_size, 1024);
    await cli('unload', '--all');
  });

  test('the interactive chat on a terminal answers a line and leaves on /bye', { skip: process.platform !== 'linux' && 'uses script(1) from util-linux' }, async () => {
    // script(1) gives the CLI a pseudo-terminal, so it takes the interactive path a user gets.
    const child = spawn('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI_PATH)} run ai/demo`, '/dev/null'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Each line is typed when the prompt for it has appeared, as a person would.
    const script = ['Hello', '/bye'];
    let prompts = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const seen = output.split('> ').length - 1;
      while (prompts < seen && script.length > 0) {
        prompts++;
        child.stdin.write(`${script.shift()}\n`);
      }
    });
    assert.equal(await exited, 0, output);
    assert.match(output, /Interactive chat with ai\/demo\. Type \/bye to leave/);
    const answer = output.slice(output.indexOf('Hello') + 'Hello'.length, output.lastIndexOf('> '));
    assert.ok(answer.replace(/\s|\/bye/g, '').length > 0, `an answer was printed between the prompts: ${JSON.stringify(output)}`);
  });

  test('export writes a tar that load brings back, under the same ID, after rm removed both names', async () => {
    const id = JSON.parse((await cli('inspect', 'ai/demo')).stdout).id as string;
    const archive = path.join(server.dir, 'demo.tar');
    await cli('export', 'ai/demo', '-o', archive);
    assert.ok((await fs.stat(archive)).size > 0);
    await cli('rm', 'ai/demo', 'mine/demo:v1');
    assert.equal((await cli('ls', '--json')).stdout.trim(), '[]');
    // The archive holds the manifest and its blobs, not a name: --tag gives one.
    assert.match((await cli('load', archive, '--tag', 'ai/demo')).stdout, new RegExp(`Model loaded successfully: ${id}`));
    assert.equal(JSON.parse((await cli('inspect', 'ai/demo')).stdout).id, id);
  });

  test('purge -f deletes every model', async () => {
    await cli('purge', '-f');
    assert.equal((await cli('ls', '--json')).stdout.trim(), '[]');
  });
});
