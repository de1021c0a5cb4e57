/**
 * A models.json edited by hand (or by another tool) into an inconsistent state is repaired when
 * the store opens: each repair is logged, the index written back, and no model file touched.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { openStore } from '../../../src/store/index.js';
import { recordingLogger } from '../../support/recording-logger.js';
import { addModel, makeTempRoot } from './support/store-fixtures.js';

interface IndexOnDisk {
  models: Array<{ id: string; tags: string[]; files: string[] }>;
}

async function readIndex(root: string): Promise<IndexOnDisk> {
  return JSON.parse(await fs.readFile(path.join(root, 'models.json'), 'utf8')) as IndexOnDisk;
}

/** Two stored models, then the index rewritten by `edit` while no store has it open. */
async function storeWithEditedIndex(t: Parameters<typeof makeTempRoot>[0], edit: (index: IndexOnDisk, ids: [string, string]) => void) {
  const root = await makeTempRoot(t);
  const first = await openStore(root);
  const a = await addModel(first, ['ai/a:latest']);
  const b = await addModel(first, ['ai/b:latest']);
  await first.close();
  const index = await readIndex(root);
  edit(index, [a.id, b.id]);
  await fs.writeFile(path.join(root, 'models.json'), JSON.stringify(index));
  const { logger, lines } = recordingLogger();
  const store = await openStore(root, { logger });
  t.after(() => store.close());
  return { root, store, lines, a, b };
}

describe('repairs of a hand-edited model index at open', () => {
  test('a model listed twice becomes one entry holding the tags of both, with a log line naming it', async (t) => {
    const { root, store, lines, a, b } = await storeWithEditedIndex(t, (index, [idA]) => {
      const entryA = index.models.find((m) => m.id === idA)!;
      index.models.push({ ...entryA, tags: ['ai/a:v2', 'ai/a:latest'] });
    });
    const models = await store.listModels();
    assert.deepEqual(models.map((m) => m.id).sort(), [a.id, b.id].sort());
    assert.deepEqual(models.find((m) => m.id === a.id)!.tags, ['ai/a:latest', 'ai/a:v2']);
    assert.equal((await store.findByTag('ai/a:v2'))?.id, a.id);
    const line = lines.find((l) => l.includes('lists a model more than once'));
    assert.ok(line, lines.join('\n'));
    assert.ok(line.includes(a.id) && line.includes('"level":"warn"'), line);
    const onDisk = await readIndex(root);
    assert.equal(onDisk.models.filter((m) => m.id === a.id).length, 1, 'the repaired index is written back');
  });

  test('a tag held by several models stays on the first that lists it and is dropped from the others, with a log line naming both', async (t) => {
    const { root, store, lines, a, b } = await storeWithEditedIndex(t, (index, [idA, idB]) => {
      index.models.find((m) => m.id === idB)!.tags.push('ai/a:latest');
      // B first, so that it is the one that keeps the tag.
      index.models.sort((x, y) => (x.id === idB ? -1 : y.id === idB ? 1 : 0));
      assert.equal(index.models[1]!.id, idA);
    });
    assert.equal((await store.findByTag('ai/a:latest'))?.id, b.id);
    const models = await store.listModels();
    assert.deepEqual(models.find((m) => m.id === a.id)?.tags, [], 'the model that lost its only tag is still stored, by ID');
    assert.deepEqual(models.find((m) => m.id === b.id)?.tags, ['ai/b:latest', 'ai/a:latest']);
    const line = lines.find((l) => l.includes('tag appears on several models'));
    assert.ok(line, lines.join('\n'));
    assert.ok(line.includes('ai/a:latest') && line.includes(a.id) && line.includes(b.id), line);
    const onDisk = await readIndex(root);
    assert.equal(onDisk.models.filter((m) => m.tags.includes('ai/a:latest')).length, 1, 'the repaired index is written back');
  });
});
