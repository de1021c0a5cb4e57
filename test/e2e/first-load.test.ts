/**
 * A model's first load, the one a user meets right after a pull or an upload. The admission check
 * has loaded the file by then (in a child process) and found its chat wrapper; the verdict keeps
 * that wrapper's type, so the first load in-process tests only that wrapper instead of rendering
 * the template against every known one (0.3-0.6 s of a small model's first load), in this server
 * and in the next one. And the main thread has checked the GGUF before the load, so the engine
 * does not read and check the same unchanged file a second time.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type ServerProcess } from '../support/server-harness.js';
import { generateTinyGguf, multipartBody } from './support/fixtures.js';

describe("a model's first load", () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer({ args: ['--threads', '1', '--parallel', '1'] });
  });
  after(async () => {
    await server?.dispose();
  });

  const chat = () => server.request('/engines/v1/chat/completions', { body: { model: 'first/load', messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 2 } });
  const unload = () => server.request('/engines/unload', { body: { all: true } });
  /** The one "model loaded" line of the server as it runs now (its output starts afresh at a restart). */
  const loadLine = () => {
    const lines = server.output().split('\n').filter((line) => /model loaded .*model=(docker\.io\/)?first\/load/.test(line));
    assert.equal(lines.length, 1, server.output());
    return lines[0]!;
  };

  test("tests only the chat wrapper the admission check found and does not check the file again, in this server and after a restart", async () => {
    const file = await generateTinyGguf(server.dir, 21);
    const upload = multipartBody({ tag: 'first/load:latest' }, { name: path.basename(file), bytes: await fs.readFile(file) });
    const stored = await server.request('/models/load', { headers: { 'content-type': upload.contentType, accept: 'application/json' }, body: upload.body });
    assert.equal(stored.status, 200, stored.text);
    assert.match(server.output(), /model admitted model=(docker\.io\/)?first\/load/, 'the check ran when the model arrived');

    const first = await chat();
    assert.equal(first.status, 200, first.text);
    const loads = [loadLine()];
    assert.equal((await unload()).status, 200);
    await server.restart();
    const afterRestart = await chat();
    assert.equal(afterRestart.status, 200, afterRestart.text);
    loads.push(loadLine());

    for (const line of loads) {
      assert.match(line, /chatWrapper=ChatML /, line);
      assert.match(line, /chatWrapperResolvedBy=hint /, `a first load with the check's verdict tests one wrapper: ${line}`);
      assert.match(line, /validation=known /, `the file the main thread checked is not checked again: ${line}`);
    }
  });
});
