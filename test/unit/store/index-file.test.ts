import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readIndexFile, writeIndexFile } from '../../../src/store/index-file.js';
import { AppError } from '../../../src/errors.js';
import { makeTempRoot } from './support/store-fixtures.js';

const A = 'sha256:' + 'a'.repeat(64);
const B = 'sha256:' + 'b'.repeat(64);

describe('models.json reading', () => {
  test('Go-style null arrays and a missing files field are read as empty tags and unknown files', async (t) => {
    const file = path.join(await makeTempRoot(t), 'models.json');
    await fs.writeFile(file, JSON.stringify({ models: [{ id: A, tags: null }, { id: B, tags: ['ai/b:latest', 'ai/b:latest'], files: null }] }));
    assert.deepEqual(await readIndexFile(file), {
      entries: [
        { id: A, tags: [], files: undefined },
        { id: B, tags: ['ai/b:latest'], files: undefined },
      ],
      problems: [],
    });
    await fs.writeFile(file, JSON.stringify({ models: null }));
    assert.deepEqual(await readIndexFile(file), { entries: [], problems: [] });
    assert.equal(await readIndexFile(path.join(path.dirname(file), 'absent.json')), undefined);
  });

  test('entries with an invalid ID or file digest are reported as problems instead of being trusted', async (t) => {
    const file = path.join(await makeTempRoot(t), 'models.json');
    await fs.writeFile(
      file,
      JSON.stringify({ models: [{ id: '../../etc', tags: [] }, { id: A, tags: [], files: ['sha256:../x'] }, 'junk', { id: B, tags: [], files: [A] }] }),
    );
    const contents = await readIndexFile(file);
    assert.deepEqual(contents?.entries, [{ id: B, tags: [], files: [A] }]);
    assert.equal(contents?.problems.length, 3);
    assert.ok(contents?.problems.some((p) => p.includes('../../etc')));
  });

  test('a models.json whose models field is not an array is refused with an error naming the file', async (t) => {
    const file = path.join(await makeTempRoot(t), 'models.json');
    await fs.writeFile(file, JSON.stringify({ models: { id: A } }));
    await assert.rejects(readIndexFile(file), (err: AppError) => err.code === 'internal' && err.message.includes(file));
  });

  test('the written file has exactly the id, tags and files fields Docker Model Runner reads', async (t) => {
    const file = path.join(await makeTempRoot(t), 'models.json');
    await writeIndexFile(file, [{ id: A, tags: ['ai/a:latest'], files: [B] }]);
    assert.deepEqual(JSON.parse(await fs.readFile(file, 'utf8')), { models: [{ id: A, tags: ['ai/a:latest'], files: [B] }] });
  });
});
