/**
 * ModelAdmission's bookkeeping on a real store: one check per file, engine and mode, verdicts kept
 * on disk, nothing kept that says more of the moment than of the file. The check itself is the
 * engine's (test/engine/admission.test.ts); here it is a function the test answers.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AdmissionVerdict } from '../../src/engine/index.js';
import { AppError } from '../../src/errors.js';
import { createSilentLogger } from '../../src/log.js';
import { ModelAdmission, type AdmissionRunner } from '../../src/models/index.js';
import { openStore, type ModelStore } from '../../src/store/index.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('model admission', () => {
  let root: string;
  let store: ModelStore;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'admission-store-'));
    store = await openStore(root);
  });
  after(async () => {
    await store.close();
    await rm(root, { recursive: true, force: true });
  });

  function admissionWith(answer: (mode: string) => Promise<AdmissionVerdict>, engine = 'engine-1') {
    const calls: string[] = [];
    const run: AdmissionRunner = async ({ mode }) => {
      calls.push(mode);
      return answer(mode);
    };
    return { admission: new ModelAdmission({ store, run, engine, logger: createSilentLogger() }), calls };
  }
  const target = (digest: string, mode: 'completion' | 'embedding' = 'completion') => ({ name: 'ai/m', digest, modelPath: '/m.gguf', mode });

  test('a model is checked once per mode however many loads ask at once, and the verdict is kept on disk for the next server', async () => {
    const digest = `sha256:${'01'.repeat(32)}`;
    const first = admissionWith(async () => ({ admitted: true, millis: 5, chatWrapper: 'ChatML' }));
    await Promise.all([1, 2, 3].map(() => first.admission.ensure(target(digest))));
    await first.admission.ensure(target(digest, 'embedding'));
    assert.deepEqual(first.calls, ['completion', 'embedding']);
    const again = admissionWith(async () => assert.fail('the stored verdict is used'));
    await again.admission.ensure(target(digest));
    const other = admissionWith(async () => ({ admitted: true, millis: 5, chatWrapper: 'ChatML' }), 'engine-2');
    await other.admission.ensure(target(digest));
    assert.deepEqual(other.calls, ['completion'], 'another engine build checks again');
  });

  test("an admission hands on the chat wrapper type the check found, and so does the stored verdict in the next server", async () => {
    const digest = `sha256:${'03'.repeat(32)}`;
    const first = admissionWith(async () => ({ admitted: true, millis: 5, chatWrapper: 'ChatML', chatWrapperType: 'chatML' }));
    assert.equal((await first.admission.ensure(target(digest))).chatWrapperType, 'chatML');
    const next = admissionWith(async () => assert.fail('the stored verdict is used'));
    assert.equal((await next.admission.ensure(target(digest))).chatWrapperType, 'chatML');
  });

  test('a refusal is a 422 naming the cause, and an embedding refusal says it concerns embeddings', async () => {
    const { admission } = admissionWith(async () => ({ admitted: false, millis: 5, reason: 'the engine was killed by SIGABRT' }));
    await assert.rejects(admission.ensure(target(DIGEST)), (e: unknown) => e instanceof AppError && e.code === 'unsupported' && e.message === 'model ai/m cannot run here: the engine was killed by SIGABRT');
    await assert.rejects(admission.ensure(target(DIGEST, 'embedding')), /^AppError: model ai\/m cannot run here as an embedding model: the engine was killed by SIGABRT$/);
    const stored = JSON.parse(await readFile(path.join(root, 'admission', 'sha256', `${'ab'.repeat(32)}.json`), 'utf8')) as { engine: string; verdicts: Record<string, { admitted: boolean; reason: string }> };
    assert.equal(stored.engine, 'engine-1');
    assert.deepEqual(Object.keys(stored.verdicts).sort(), ['completion', 'embedding']);
    assert.equal(stored.verdicts.completion?.reason, 'the engine was killed by SIGABRT');
  });

  test('a check that fails for the moment (out of memory, cancelled) is not kept: the next load checks again', async () => {
    const digest = `sha256:${'02'.repeat(32)}`;
    let failures = 1;
    const { admission, calls } = admissionWith(async () => {
      if (failures-- > 0) throw new AppError('insufficient_memory', 'not enough memory for the check');
      return { admitted: true, millis: 5, chatWrapper: 'ChatML' };
    });
    await assert.rejects(admission.ensure(target(digest)), /not enough memory/);
    await admission.ensure(target(digest));
    assert.deepEqual(calls, ['completion', 'completion']);
  });
});
