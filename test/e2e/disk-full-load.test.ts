/**
 * Tar loads and GGUF uploads (POST /models/load), and Ollama's blob uploads (POST /api/blobs), into
 * a store on a small tmpfs: one that cannot fit is refused before a body byte is sent; one whose
 * room another writer takes midway gets the same 507 and leaves the volume as it was; a small
 * model then loads and chats, and is all the store lists after a restart.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ServerProcess, startServer } from '../support/server-harness.js';
import { parseNdjson } from '../support/http-client.js';
import { generateTinyGguf, multipartBody, sha256OfBytes } from './support/fixtures.js';
import { tarOfPackagedGguf, tarWithBlob } from './support/model-tar.js';
import { allocatedBytes, mountSmallVolume, type SmallVolume } from './support/small-volume.js';
import { streamedRequest, type StreamedRequestOptions } from './support/streamed-request.js';
import { waitUntil } from './support/wait.js';

const MIB = 1024 * 1024;
/** Sent before the filler lands: enough that the server is writing the upload when it does. */
const SENT_BEFORE_FILLING = 2 * MIB;
/** A tar's blob reaches the disk in 4 MiB writes (WRITE_BUFFER_BYTES): send past the first one. */
const TAR_SENT_BEFORE_FILLING = 5 * MIB;

/** A guard, not a measure: a server that never answers a headers-only request would hang the run. */
const HANG_GUARD_MS = 120_000;

const probe = await mountSmallVolume(1);
const skip = typeof probe === 'string' ? probe : false;
if (typeof probe !== 'string') await probe.dispose();

/** Mounts a volume of `sizeMiB`, runs a server whose store is on it; `after` unmounts even on failure. */
function storeOnSmallVolume(sizeMiB: number) {
  const env: { volume?: SmallVolume; server?: ServerProcess; modelsPath: string } = { modelsPath: '' };
  before(async () => {
    const mounted = await mountSmallVolume(sizeMiB);
    if (typeof mounted === 'string') throw new Error(mounted);
    env.volume = mounted;
    env.modelsPath = path.join(mounted.dir, 'models');
    env.server = await startServer({ modelsPath: env.modelsPath, args: ['--threads', '1', '--log-level', 'warn'] });
  });
  after(async () => {
    try {
      await env.server?.dispose();
    } finally {
      await env.volume?.dispose();
    }
  });
  return env;
}

/** Files under `dir` (recursively), for "nothing was left behind". */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath ?? (e as { path?: string }).path ?? '', e.name));
}

async function largestAllocated(dir: string, pattern: RegExp): Promise<number> {
  let largest = 0;
  for (const file of await filesUnder(dir)) if (pattern.test(path.basename(file))) largest = Math.max(largest, await allocatedBytes(file));
  return largest;
}

/**
 * Sends one body with `send`, paused after `sentBeforeFilling` bytes until a file named like
 * `staged` under the store holds a MiB, then with the volume filled: the room runs out midway.
 * The volume is emptied again whatever the answer.
 */
async function sendWhileTheDiskFills<R>(
  env: ReturnType<typeof storeOnSmallVolume>,
  sentBeforeFilling: number,
  staged: { what: string; pattern: RegExp },
  send: (pacing: { pauseAfter: number; pause: () => Promise<void> }) => Promise<R>,
): Promise<R> {
  try {
    return await send({
      pauseAfter: sentBeforeFilling,
      pause: async () => {
        await waitUntil(staged.what, async () => (await largestAllocated(env.modelsPath, staged.pattern)) >= MIB);
        await env.volume!.fill();
      },
    });
  } finally {
    await env.volume!.unfill();
  }
}

async function chatWith(server: ServerProcess, model: string): Promise<void> {
  const chat = await server.request('/engines/v1/chat/completions', { body: { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 } });
  assert.equal(chat.status, 200, chat.text);
}

describe('a tar load into a store whose disk is too small', { skip }, () => {
  const env = storeOnSmallVolume(16);
  const load = (options: Omit<StreamedRequestOptions, 'headers'>) =>
    streamedRequest(env.server!.socketPath, '/models/load', { headers: { 'content-type': 'application/x-tar', accept: 'application/json' }, ...options });

  test('a tar larger than the free space is refused with 507 before a byte of it is sent', { timeout: HANG_GUARD_MS }, async () => {
    const usedBefore = await env.volume!.usedBytes();
    const reply = await load({ body: Buffer.alloc(0), contentLength: 24 * MIB, headersOnly: true });
    assert.equal(reply.status, 507, reply.text);
    assert.match(reply.text, /not enough disk space in the model store to load the uploaded model: it needs 25\.\d+MB, [\d.]+MB is free/);
    assert.ok(!reply.text.includes(env.volume!.dir), `the error names no server path: ${reply.text}`);
    assert.equal(await env.volume!.usedBytes(), usedBefore);
  });

  test('a tar whose room another writer takes midway is answered 507 naming the blob, and the volume returns to where it was', async () => {
    const { tar, digest } = await tarWithBlob(randomBytes(8 * MIB));
    const usedBefore = await env.volume!.usedBytes();
    const reply = await sendWhileTheDiskFills(env, TAR_SENT_BEFORE_FILLING, { what: 'the blob being staged on the volume', pattern: /\.tmp$/ }, (pacing) => load({ body: tar, ...pacing }));
    assert.equal(reply.status, 507, reply.text);
    assert.match(reply.text, new RegExp(`not enough disk space in the model store to load the uploaded model \\(the disk filled up while blob ${digest} was being written`));
    assert.ok(!reply.text.includes(env.volume!.dir), `the error names no server path: ${reply.text}`);
    assert.deepEqual((await filesUnder(path.join(env.modelsPath, 'blobs'))), [], 'nothing staged is left');
    assert.equal(await env.volume!.usedBytes(), usedBefore, 'the volume is back where it was before the load');
  });

  test('after the failures a small model loads from a tar and chats, and after a restart the store lists exactly that model', async () => {
    const scratch = await fs.mkdtemp(path.join(env.server!.dir, 'gguf-'));
    const { tar, id } = await tarOfPackagedGguf(await generateTinyGguf(scratch, 31));
    const reply = await load({ body: tar });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(parseNdjson(reply).at(-1).id, id, reply.text);
    await chatWith(env.server!, id);

    await env.server!.restart();
    const listed = (await env.server!.request('/models')).json<Array<{ id: string }>>();
    assert.deepEqual(listed.map((m) => m.id), [id]);
  });
});

describe('a GGUF upload into a store whose disk is too small', { skip }, () => {
  // An upload is saved, then copied into a blob: it needs twice its size, so this volume is larger.
  const env = storeOnSmallVolume(24);
  const upload = (form: { contentType: string; body: Buffer }, options: Omit<StreamedRequestOptions, 'headers' | 'body'> = {}) =>
    streamedRequest(env.server!.socketPath, '/models/load', { headers: { 'content-type': form.contentType, accept: 'application/json' }, body: form.body, ...options });

  test('an upload that cannot fit twice is refused with 507 before a byte of it is sent', { timeout: HANG_GUARD_MS }, async () => {
    const usedBefore = await env.volume!.usedBytes();
    const form = multipartBody({}, { name: 'big.gguf', bytes: Buffer.alloc(0) });
    const reply = await upload(form, { contentLength: 16 * MIB, headersOnly: true });
    assert.equal(reply.status, 507, reply.text);
    assert.match(reply.text, /not enough disk space in the model store to load the uploaded model: it needs 33\.\d+MB, [\d.]+MB is free/);
    assert.ok(!reply.text.includes(env.volume!.dir), `the error names no server path: ${reply.text}`);
    assert.equal(await env.volume!.usedBytes(), usedBefore);
  });

  test('an upload whose room another writer takes midway is answered 507, and the volume returns to where it was', async () => {
    const form = multipartBody({}, { name: 'big.gguf', bytes: Buffer.concat([Buffer.from('GGUF'), randomBytes(6 * MIB)]) });
    const usedBefore = await env.volume!.usedBytes();
    const reply = await sendWhileTheDiskFills(env, SENT_BEFORE_FILLING, { what: 'the upload being saved on the volume', pattern: /\.gguf$/ }, (pacing) => upload(form, pacing));
    assert.equal(reply.status, 507, reply.text);
    assert.match(reply.text, /not enough disk space in the model store to load the uploaded model \(the disk filled up; what had been written was removed\): it needs 12\.\d+MB/);
    assert.ok(!reply.text.includes(env.volume!.dir), `the error names no server path: ${reply.text}`);
    assert.deepEqual(await filesUnder(path.join(env.modelsPath, 'uploads.tmp')), [], 'the saved part of the upload is gone');
    assert.equal(await env.volume!.usedBytes(), usedBefore, 'the volume is back where it was before the upload');
  });

  test('after the failures a small GGUF uploads and chats, and after a restart the store lists exactly that model', async () => {
    const scratch = await fs.mkdtemp(path.join(env.server!.dir, 'gguf-'));
    const ggufPath = await generateTinyGguf(scratch, 41);
    const reply = await upload(multipartBody({ tag: 'ai/uploaded:latest' }, { name: 'tiny.gguf', bytes: await fs.readFile(ggufPath) }));
    assert.equal(reply.status, 200, reply.text);
    assert.equal(parseNdjson(reply).at(-1).type, 'success', reply.text);
    await chatWith(env.server!, 'ai/uploaded:latest');

    await env.server!.restart();
    const listed = (await env.server!.request('/models')).json<Array<{ tags: string[] }>>();
    assert.deepEqual(listed.map((m) => m.tags), [['docker.io/ai/uploaded:latest']]);
  });
});

describe("an Ollama blob upload (POST /api/blobs/:digest) into a store whose disk is too small", { skip }, () => {
  const env = storeOnSmallVolume(16);
  const send = (digest: string, body: Buffer, options: Omit<StreamedRequestOptions, 'headers' | 'body'> = {}) =>
    streamedRequest(env.server!.socketPath, `/api/blobs/${digest}`, { headers: { 'content-type': 'application/octet-stream' }, body, ...options });

  test('a blob larger than the free space is refused with 507 before a byte of it is sent', { timeout: HANG_GUARD_MS }, async () => {
    const usedBefore = await env.volume!.usedBytes();
    const digest = sha256OfBytes('never sent');
    const reply = await send(digest, Buffer.alloc(0), { contentLength: 24 * MIB, headersOnly: true });
    assert.equal(reply.status, 507, reply.text);
    const { error } = reply.json() as { error: string };
    assert.match(error, new RegExp(`not enough disk space in the model store to store the uploaded blob ${digest}: it needs 25\\.\\d+MB`));
    assert.ok(!error.includes(env.volume!.dir), `the error names no server path: ${error}`);
    assert.equal(await env.volume!.usedBytes(), usedBefore);
  });

  test('a blob whose room another writer takes midway is answered 507, nothing is stored and the volume returns to where it was', async () => {
    const bytes = randomBytes(8 * MIB);
    const digest = sha256OfBytes(bytes);
    const usedBefore = await env.volume!.usedBytes();
    const reply = await sendWhileTheDiskFills(env, TAR_SENT_BEFORE_FILLING, { what: 'the blob being staged on the volume', pattern: /\.tmp$/ }, (pacing) => send(digest, bytes, pacing));
    assert.equal(reply.status, 507, reply.text);
    const { error } = reply.json() as { error: string };
    assert.match(error, new RegExp(`not enough disk space in the model store to store the uploaded blob ${digest} \\(the disk filled up`));
    assert.ok(!error.includes(env.volume!.dir), `the error names no server path: ${error}`);
    assert.deepEqual(await filesUnder(path.join(env.modelsPath, 'blobs')), [], 'nothing staged is left');
    assert.equal(await env.volume!.usedBytes(), usedBefore, 'the volume is back where it was before the upload');
    assert.equal((await env.server!.request(`/api/blobs/${digest}`, { method: 'HEAD' })).status, 404);
  });
});
