/**
 * The prompt cache that survives unloads, through the compiled server with real Workers on tiny
 * generated models: a prompt's KV state is saved when its model unloads and restored by the next
 * load (cached_tokens says so); a file that is corrupt, truncated, of another engine build or of
 * another model is never handed to llama.cpp; the byte bound evicts the least recently used.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeTrailer, readTrailer, type PrefixStateHeader } from '../../src/engine/worker/prefix-state-file.js';
import { prefixStateKey } from '../../src/engine/worker/prefix-state-key.js';
import { startDemoServer, storeWithDemo } from '../support/demo-server.js';
import { type ServerProcess, startServer } from '../support/server-harness.js';
import { openRequest, sseData } from '../support/http-client.js';
import { generateTinyGguf, packageIntoStore } from './support/fixtures.js';
import { waitUntil } from './support/wait.js';
import { mountSmallVolume, type SmallVolume } from './support/small-volume.js';

const DEMO = 'ai/demo';
const SECOND = 'ai/second';
const SERVER_ARGS = ['--threads', '1', '--max-loaded-models', '1', '--parallel', '1', '--context-size', '2048', '--log-level', 'warn'];

/** SERVER_ARGS with two sequences, which share the model's KV cache. */
const TWO_SEQUENCES_ARGS = [...SERVER_ARGS.filter((a, i, all) => a !== '--parallel' && all[i - 1] !== '--parallel'), '--parallel', '2'];

/** Saved-state and temp files anywhere under the prompt cache directory `root`. */
async function cacheFilesUnder(root: string): Promise<string[]> {
  return (await fs.readdir(root, { recursive: true }).catch(() => [] as string[])).filter((n) => /\.(kv|tmp)$/.test(n));
}

/** A system prompt of `chars` characters (the tiny vocabulary is nearly a token per character), different per `seed`. */
function systemPrompt(seed: string, chars = 600): string {
  const words = ['tools', 'answer', 'briefly', 'search', 'files', 'never', 'guess', 'always', 'cite', 'sources'];
  let text = `You are assistant ${seed}. `;
  for (let i = 0; text.length < chars; i++) text += `${words[(i * 7 + seed.length) % words.length]} `;
  return text.slice(0, chars);
}

const probe = await mountSmallVolume(1);
const noVolume = typeof probe === 'string' ? probe : false;
if (typeof probe !== 'string') await probe.dispose();

/**
 * Unloads the one loaded model once its last request has let go of it, and checks that it did:
 * what a test sends next then meets a fresh load, never the sequences still in memory.
 */
async function unloadIdle(server: ServerProcess): Promise<void> {
  await waitUntil('the model is idle', async () => ((await server.request('/engines/ps')).json() as Array<{ in_use: number }>).every((r) => r.in_use === 0));
  const reply = await server.request('/engines/unload', { body: { all: true } });
  assert.deepEqual(reply.json(), { unloaded_runners: 1 }, `the model was unloaded: ${reply.text}`);
}

interface Usage {
  prompt_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

/** One chat turn with `model` (a system prompt and a question, one reply token); its usage. */
async function chatOnce(server: ServerProcess, model: string, system: string, user = 'What can you do?'): Promise<Usage> {
  const reply = await server.request('/engines/v1/chat/completions', {
    body: { model, messages: [{ role: 'system', content: system }, { role: 'user', content: user }], max_tokens: 1, temperature: 0 },
  });
  assert.equal(reply.status, 200, reply.text);
  return reply.json().usage as Usage;
}

describe('a prompt cache that survives unloads', () => {
  let server: ServerProcess;
  let demoHex: string;
  let secondHex: string;

  const chat = (model: string, system: string, user?: string) => chatOnce(server, model, system, user);
  const unloadAll = () => unloadIdle(server);
  const cacheDir = (hex: string) => path.join(server.modelsPath, 'prompt-cache', hex);
  const savedFiles = async (hex: string) => (await fs.readdir(cacheDir(hex)).catch(() => [] as string[])).filter((n) => n.endsWith('.kv')).map((n) => path.join(cacheDir(hex), n));
  /** The demo model's only saved state once `system` has been its one prompt since its cache was emptied. */
  const savedAlone = async (system: string): Promise<string> => {
    await fs.rm(cacheDir(demoHex), { recursive: true, force: true });
    await chat(DEMO, system);
    await unloadAll();
    const [file] = await savedFiles(demoHex);
    assert.ok(file, 'the unload saved the prompt');
    return file;
  };
  const headerOf = async (file: string): Promise<PrefixStateHeader> => {
    const handle = await fs.open(file, 'r');
    try {
      const header = await readTrailer(handle, (await handle.stat()).size);
      assert.equal(typeof header, 'object', `a saved file has a readable trailer: ${String(header)}`);
      return header as PrefixStateHeader;
    } finally {
      await handle.close();
    }
  };
  /** Rewrites a saved file's trailer with `changes`, under the name its new key gives it; returns the new path. */
  const forge = async (file: string, changes: Partial<PrefixStateHeader>, into = path.dirname(file)): Promise<string> => {
    const bytes = await fs.readFile(file);
    const header = await headerOf(file);
    const state = bytes.subarray(0, header.stateBytes);
    const tokens = Array.from({ length: header.tokens }, (_, i) => state.readUInt32LE(12 + i * 4));
    const forged = { ...header, ...changes };
    forged.key = prefixStateKey(forged.model, forged.build, tokens);
    const target = path.join(into, `${forged.key}.kv`);
    await fs.mkdir(into, { recursive: true });
    await fs.writeFile(target, Buffer.concat([state, encodeTrailer(forged)]));
    return target;
  };

  before(async () => {
    const demo = await startDemoServer({
      args: SERVER_ARGS,
      prepare: async ({ dir, modelsPath }) => packageIntoStore(await generateTinyGguf(dir, 2), modelsPath, SECOND),
    });
    server = demo.server;
    demoHex = demo.demoId.replace(/^sha256:/, '');
    const models = (await server.request('/models')).json() as Array<{ id: string; tags: string[] }>;
    secondHex = models.find((m) => m.tags.some((t) => t.includes('second')))!.id.replace(/^sha256:/, '');
  });

  after(async () => {
    const code = await server?.dispose();
    assert.equal(code, 0, `the server survived the file and exits cleanly on SIGTERM:\n${server?.output()}`);
  });

  test('the KV state saved at unload is restored by the next load: cached_tokens counts the prefix, also for a new question', async () => {
    const system = systemPrompt('one');
    const first = await chat(DEMO, system);
    assert.equal(first.prompt_tokens_details.cached_tokens, 0, 'a fresh model has nothing cached');
    await unloadAll();
    assert.equal((await savedFiles(demoHex)).length, 1, 'the unload saved the prompt');

    const again = await chat(DEMO, system);
    assert.ok(again.prompt_tokens_details.cached_tokens >= first.prompt_tokens - 1, `the whole prompt but its last token came from the saved state: ${JSON.stringify(again)}`);
    await unloadAll();

    const other = await chat(DEMO, system, 'Something else entirely, please.');
    assert.ok(other.prompt_tokens_details.cached_tokens >= system.length / 2, `the shared system prompt came from the saved state: ${JSON.stringify(other)}`);
    assert.ok(other.prompt_tokens_details.cached_tokens < other.prompt_tokens - 1, 'the new question was evaluated');
    await unloadAll();

    // Ollama's dialect says it with prompt_eval_cached_count.
    const ollama = await server.request('/api/chat', {
      body: { model: DEMO, messages: [{ role: 'system', content: system }, { role: 'user', content: 'What can you do?' }], stream: false, options: { num_predict: 1, temperature: 0 } },
    });
    assert.equal(ollama.status, 200, ollama.text);
    const final = ollama.json() as { prompt_eval_count: number; prompt_eval_cached_count?: number };
    assert.ok((final.prompt_eval_cached_count ?? 0) >= system.length / 2, `Ollama's reply counts the restored prefix: ${ollama.text}`);
    assert.ok(final.prompt_eval_count > (final.prompt_eval_cached_count ?? 0), 'prompt_eval_count counts every prompt token, cached ones included');
    await unloadAll();
  });

  test('a corrupt saved state is removed and never restored, and the request is answered in full', async () => {
    const system = systemPrompt('two');
    const file = await savedAlone(system);
    // One flipped byte in the KV cells: only the checksum can tell.
    const bytes = await fs.readFile(file);
    const header = await headerOf(file);
    const at = header.stateBytes - 100;
    bytes[at] = bytes[at]! ^ 0xff;
    await fs.writeFile(file, bytes);

    const usage = await chat(DEMO, system);
    assert.equal(usage.prompt_tokens_details.cached_tokens, 0, 'nothing was restored from the corrupt file');
    assert.deepEqual(await savedFiles(demoHex), [], 'the corrupt file is gone');
    await unloadAll();

    // Truncated, as a crash or a full disk would leave it outside the atomic write.
    const [saved] = await savedFiles(demoHex);
    assert.ok(saved, 'the unload saved the prompt again');
    const whole = await fs.readFile(saved);
    await fs.writeFile(saved, whole.subarray(0, Math.floor(whole.length / 2)));
    const afterTruncation = await chat(DEMO, system);
    assert.equal(afterTruncation.prompt_tokens_details.cached_tokens, 0, 'nothing was restored from the truncated file');
    assert.deepEqual(await savedFiles(demoHex), [], 'the truncated file is gone');
    await unloadAll();
  });

  test('a state saved by another engine build or for another model is never restored', async () => {
    const system = systemPrompt('three');
    const file = await savedAlone(system);
    const real = await headerOf(file);
    // The real file, copied as it is into the second model's directory (same tokenizer, other weights).
    await fs.mkdir(cacheDir(secondHex), { recursive: true });
    await fs.copyFile(file, path.join(cacheDir(secondHex), path.basename(file)));
    // The same tokens and KV bytes, coherent in every field, claimed by another build; the real one goes.
    await forge(file, { build: `${real.build} (another build)` });
    await fs.rm(file);

    assert.equal((await chat(DEMO, system)).prompt_tokens_details.cached_tokens, 0, 'a state of another build is not restored');
    await unloadAll();
    assert.equal((await chat(SECOND, system)).prompt_tokens_details.cached_tokens, 0, 'a state of another model is not restored');
    await unloadAll();
  });

  test('deleting a model removes its saved states, and only its own', async () => {
    await chat(SECOND, systemPrompt('four'));
    await chat(DEMO, systemPrompt('four'));
    await unloadAll();
    assert.ok((await savedFiles(secondHex)).length > 0 && (await savedFiles(demoHex)).length > 0, 'both models saved their prompt');
    const reply = await server.request(`/models/${SECOND}`, { method: 'DELETE' });
    assert.equal(reply.status, 200, reply.text);
    await assert.rejects(fs.access(cacheDir(secondHex)), 'the deleted model\'s directory is gone');
    assert.ok((await savedFiles(demoHex)).length > 0, 'the other model keeps its saved states');
  });

  test('the byte bound evicts the least recently used saved state, not the least recently saved', async () => {
    await fs.rm(path.join(server.modelsPath, 'prompt-cache'), { recursive: true, force: true });
    const [a, b, c] = ['alpha', 'bravo', 'charlie'].map((seed) => systemPrompt(seed));
    await chat(DEMO, a!);
    await unloadAll();
    const [fileA] = await savedFiles(demoHex);
    assert.ok(fileA, 'the unload saved the first prompt');
    // Room for two saved prompts, not three.
    const bound = Math.floor((await fs.stat(fileA)).size * 2.5);
    await server.restart({ args: [...SERVER_ARGS, '--prompt-cache-size', String(bound)] });

    await chat(DEMO, b!);
    await unloadAll();
    const fileB = (await savedFiles(demoHex)).find((f) => f !== fileA);
    assert.ok(fileB, 'the unload saved the second prompt next to the first');
    // The first prompt is used again: its file is now the more recently used.
    assert.ok((await chat(DEMO, a!)).prompt_tokens_details.cached_tokens > 0);
    await unloadAll();

    await chat(DEMO, c!);
    await unloadAll();
    const files = await savedFiles(demoHex);
    assert.equal(files.length, 2, `two files fit in the bound: ${files.join(', ')}`);
    assert.ok(files.includes(fileA), 'the recently restored first prompt stays');
    assert.ok(!files.includes(fileB), 'the second prompt, least recently used, was evicted');
    const sizes = await Promise.all(files.map(async (f) => (await fs.stat(f)).size));
    assert.ok(sizes.reduce((sum, n) => sum + n, 0) <= bound, 'what stays fits in the bound');
  });
});

describe('a prompt cache for a model with several sequences', () => {
  let server: ServerProcess;
  let demoHex: string;

  before(async () => {
    const demo = await startDemoServer({ args: TWO_SEQUENCES_ARGS });
    server = demo.server;
    demoHex = demo.demoId.replace(/^sha256:/, '');
  });

  after(async () => {
    await server?.dispose();
  });

  const messages = (seed: string) => [{ role: 'system', content: systemPrompt(seed) }, { role: 'user', content: 'Go on.' }];
  const chat = (seed: string) => chatOnce(server, DEMO, systemPrompt(seed), 'Go on.');

  test('a sequence left idle is parked in a file when another request starts, and its conversation gets it back while the model stays loaded', async () => {
    const cacheDir = path.join(server.modelsPath, 'prompt-cache', demoHex);
    const saved = async () => (await fs.readdir(cacheDir).catch(() => [] as string[])).filter((n) => n.endsWith('.kv'));
    await fs.rm(cacheDir, { recursive: true, force: true });
    await chat('parked');
    assert.deepEqual(await saved(), [], 'nothing is parked while no other request needs the cache');
    // Another conversation starts on the other sequence: the idle one leaves the shared KV cache for a file.
    await chat('other');
    assert.equal((await saved()).length, 1, 'the idle conversation was parked before any unload');
    const back = await chat('parked');
    assert.ok(back.prompt_tokens_details.cached_tokens >= back.prompt_tokens - 1, `the parked conversation's prompt was restored: ${JSON.stringify(back)}`);
    assert.equal((await saved()).length, 2, 'the other conversation, idle in its turn, was parked too');
    await unloadIdle(server);
  });

  test('each sequence holding a different prompt is saved at unload, and each prompt is restored after it', async () => {
    // The first conversation keeps generating on one sequence while the second takes the other.
    const { req, res } = await openRequest(server.socketPath, '/engines/v1/chat/completions', {
      body: { model: DEMO, messages: messages('left'), max_tokens: 1000, ignore_eos: true, stream: true },
    });
    assert.equal(res.statusCode, 200);
    const frames = sseData(res);
    await frames.next();
    const right = await chat('right');
    assert.equal(right.prompt_tokens_details.cached_tokens, 0);
    req.destroy();
    await frames.return(undefined).catch(() => undefined);
    // Once the cancelled generation has let go of its sequence, the unload saves both.
    await unloadIdle(server);

    const left = await chat('left');
    assert.ok(left.prompt_tokens_details.cached_tokens >= left.prompt_tokens - 1, `the first conversation's prompt was restored: ${JSON.stringify(left)}`);
    const again = await chat('right');
    assert.ok(again.prompt_tokens_details.cached_tokens >= again.prompt_tokens - 1, `the second conversation's prompt was restored: ${JSON.stringify(again)}`);
  });
});

describe('a prompt cache too small for a conversation', () => {
  let server: ServerProcess;

  before(async () => {
    const args = [...TWO_SEQUENCES_ARGS, '--prompt-cache-size', '1024'];
    ({ server } = await startDemoServer({ args }));
  });

  after(async () => {
    await server?.dispose();
  });

  const chat = (seed: string) => chatOnce(server, DEMO, systemPrompt(seed), 'Go on.');

  test('an idle conversation whose state is over the bound is not parked: it keeps its cells and its next turn still reuses them', async () => {
    await chat('kept');
    await chat('other');
    const files = await cacheFilesUnder(path.join(server.modelsPath, 'prompt-cache'));
    assert.deepEqual(files, [], 'no state file was kept');
    const back = await chat('kept');
    assert.ok(back.prompt_tokens_details.cached_tokens >= back.prompt_tokens - 1, `the conversation's prompt was still in the KV cache: ${JSON.stringify(back)}`);
  });
});

describe('a prompt cache on a full disk', { skip: noVolume }, () => {
  let volume: SmallVolume | undefined;
  let server: ServerProcess;
  let cacheRoot: string;

  before(async () => {
    const mounted = await mountSmallVolume(32);
    if (typeof mounted === 'string') throw new Error(mounted);
    volume = mounted;
    const modelsPath = path.join(mounted.dir, 'models');
    cacheRoot = path.join(modelsPath, 'prompt-cache');
    await storeWithDemo(modelsPath);
    server = await startServer({ modelsPath, args: TWO_SEQUENCES_ARGS });
  });

  after(async () => {
    try {
      await server?.dispose();
    } finally {
      await volume?.dispose();
    }
  });

  const chat = (seed = 'full') => chatOnce(server, DEMO, systemPrompt(seed), 'Hi');
  const unload = () => unloadIdle(server);
  const cacheFiles = () => cacheFilesUnder(cacheRoot);

  test('a save that finds the disk full fails quietly and leaves no partial file; the model still serves, and saves once there is room', async () => {
    await chat();
    await volume!.fill();
    await unload();
    assert.deepEqual(await cacheFiles(), [], 'neither a state file nor a temp file is left');
    assert.match(await server.waitForOutput(/prompt cache: prefixes not saved/), /the disk is full/, 'one warning says why');
    assert.equal((await chat()).prompt_tokens_details.cached_tokens, 0);
    await volume!.unfill();
    await unload();
    assert.equal((await cacheFiles()).length, 1, 'with room again, the unload saves the prompt');
    assert.ok((await chat()).prompt_tokens_details.cached_tokens > 0);
  });

  test('a park that finds the disk full leaves the idle conversation in the KV cache, warns once and leaves no partial file', async () => {
    await chat('kept');
    const before = await cacheFiles();
    await volume!.fill();
    // Its park fails: the first conversation stays where it was.
    await chat('other');
    assert.match(await server.waitForOutput(/could not be parked/), /the disk is full/, 'the warning says why');
    // Back on its own sequence; the other conversation, idle now, is not tried again.
    const back = await chat('kept');
    assert.ok(back.prompt_tokens_details.cached_tokens >= back.prompt_tokens - 1, `the conversation was still in the KV cache: ${JSON.stringify(back)}`);
    assert.equal(server.output().match(/could not be parked/g)?.length, 1, 'one warning, not one per request');
    assert.deepEqual(await cacheFiles(), before, 'neither a state file nor a temp file was added');
    await volume!.unfill();
  });
});
