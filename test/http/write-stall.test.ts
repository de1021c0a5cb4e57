/**
 * A client that stops reading a streamed response, without closing it, must not hold its model
 * slot: once the socket has stayed full for the write stall limit, the server cuts the response
 * and the generation is cancelled. The limit is set low here; the client never reads again, so
 * only the limit can free the slot, whatever the machine's speed.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { GenerateEvent } from '../../src/engine/types.js';
import { createInferenceRouter } from '../../src/http/openai/inference-router.js';
import { createOllamaRouter, type OllamaCatalogPort } from '../../src/http/ollama/router.js';
import { stopReadingDuringGeneration } from './hang-up.js';
import { scriptedDeps } from './scripted-deps.js';
import { startTestServer } from './socket-client.js';

const servers: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const server of servers) await server.close();
});

/** 8 MiB of text in 64 KiB events: far more than a socket's buffers on either side hold. */
const FLOOD: GenerateEvent[] = Array.from({ length: 128 }, () => ({ type: 'text', text: 'x'.repeat(64 * 1024) }));

/** A guard against hanging the suite when the limit is missing; the test itself waits on events. */
const HANG_GUARD = { timeout: 60_000 };

/** Chat asks the catalog port only for the model's extras (none here); anything else fails loudly. */
const unused = async (): Promise<never> => {
  throw new Error('the chat routes use no other part of the catalog port');
};
const UNUSED_CATALOG: OllamaCatalogPort = {
  pull: unused,
  remove: unused,
  copy: unused,
  show: unused,
  extras: async () => ({}),
  hasBlob: unused,
  receiveBlob: unused,
  create: unused,
  push: unused,
  unload: unused,
  configure: unused,
};

async function setup() {
  const scripted = scriptedDeps({ script: { events: FLOOD, hang: true } });
  const server = await startTestServer([createInferenceRouter(scripted.deps), createOllamaRouter({ ...scripted.deps, catalog: UNUSED_CATALOG })], {
    writeStallTimeoutMs: 50,
  });
  servers.push(server);
  return { ...scripted, socketPath: server.socketPath };
}

describe('a client that stops reading a stream', () => {
  test('an OpenAI SSE stream left unread is cut after the write stall limit: the generation is cancelled and the slot released', HANG_GUARD, async () => {
    const t = await setup();
    const { signal, resumeUntilClosed } = await stopReadingDuringGeneration(t, '/v1/chat/completions', { model: 'ai/smollm2', messages: [{ role: 'user', content: 'Hi' }], stream: true });
    assert.equal(signal.aborted, true);
    assert.equal(t.released(), 1);
    assert.equal((await resumeUntilClosed()).complete, false, 'the server cut the response rather than ending it');
  });

  test('an Ollama NDJSON stream left unread is cut the same way', HANG_GUARD, async () => {
    const t = await setup();
    const { signal, resumeUntilClosed } = await stopReadingDuringGeneration(t, '/api/chat', { model: 'ai/smollm2', messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(signal.aborted, true);
    assert.equal(t.released(), 1);
    assert.equal((await resumeUntilClosed()).complete, false, 'the server cut the response rather than ending it');
  });
});
