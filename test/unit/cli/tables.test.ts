import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatModelTable, matchesFilter, type ModelJson, modelRows, quietIds } from '../../../src/cli/client/model-table.js';
import { formatPsTable, untilCell } from '../../../src/cli/ps.js';
import { formatDeleteResult } from '../../../src/cli/rm.js';

const NOW = Date.UTC(2025, 5, 1, 12);
const ID_A = `sha256:aaaaaaaaaaaa${'1'.repeat(52)}`;
const ID_B = `sha256:bbbbbbbbbbbb${'2'.repeat(52)}`;

const MODELS: ModelJson[] = [
  {
    id: ID_A,
    tags: ['docker.io/ai/smollm2:latest', 'docker.io/ai/smollm2:360M-Q4_K_M'],
    created: NOW / 1000 - 3 * 86400,
    config: { format: 'gguf', quantization: 'Q4_K_M', parameters: '361.82M', architecture: 'llama', size: '256.35MiB' },
  },
  { id: ID_B, tags: [], created: NOW / 1000 - 7200, config: { parameters: '1.24B', size: '1.00GiB' } },
];

describe('the ls table', () => {
  test('each tag is a row with the short ID, the stripped name and the config columns', () => {
    assert.deepEqual(modelRows(MODELS, NOW), [
      ['aaaaaaaaaaaa', 'smollm2', '361.82M', 'Q4_K_M', 'llama', '3 days ago', '256.35MiB'],
      ['aaaaaaaaaaaa', 'smollm2:360M-Q4_K_M', '361.82M', 'Q4_K_M', 'llama', '3 days ago', '256.35MiB'],
      ['bbbbbbbbbbbb', '<none>', '1.24B', '', '', '2 hours ago', '1.00GiB'],
    ]);
  });

  test('the header names the columns in order', () => {
    const header = formatModelTable(MODELS, NOW).split('\n')[0]!;
    assert.deepEqual(header.split(/\s{2,}/), ['ID', 'MODEL', 'PARAMETERS', 'QUANTIZATION', 'ARCHITECTURE', 'CREATED', 'SIZE']);
  });

  test('-q prints each model ID once', () => {
    assert.equal(quietIds(MODELS), 'aaaaaaaaaaaa\nbbbbbbbbbbbb\n');
  });

  test('a filter matches a short name, a name with its tag, a full name or an ID prefix', () => {
    const model = MODELS[0]!;
    assert.equal(matchesFilter(model, 'smollm2'), true);
    assert.equal(matchesFilter(model, 'ai/smollm2:360M-Q4_K_M'), true);
    assert.equal(matchesFilter(model, 'docker.io/ai/smollm2:latest'), true);
    assert.equal(matchesFilter(model, 'aaaaaa'), true);
    assert.equal(matchesFilter(model, 'smollm3'), false);
  });
});

describe('the ps table', () => {
  const base = { backend_name: 'llama.cpp', model_name: 'docker.io/ai/smollm2:latest', mode: 'completion', context_size: 4096, parallel: 2, memory_bytes: 300_000_000 };

  test('UNTIL says why a model is resident and how long it stays', () => {
    assert.equal(untilCell({ ...base, loading: true }, NOW), 'Loading');
    assert.equal(untilCell({ ...base, in_use: 1 }, NOW), 'In use');
    assert.equal(untilCell({ ...base, in_use: 0, expires_at: new Date(NOW + 4 * 60_000).toISOString() }, NOW), '4 minutes from now');
    assert.equal(untilCell({ ...base, in_use: 0, expires_at: null, keep_alive: '-1' }, NOW), 'Forever');
  });

  test('rows show the stripped name, the context, the slots and the memory', () => {
    const lines = formatPsTable([{ ...base, in_use: 1 }], NOW).trimEnd().split('\n');
    assert.deepEqual(lines[0]!.split(/\s{2,}/), ['MODEL NAME', 'BACKEND', 'MODE', 'CONTEXT', 'PARALLEL', 'MEMORY', 'UNTIL']);
    assert.deepEqual(lines[1]!.split(/\s{2,}/), ['smollm2', 'llama.cpp', 'completion', '4096', '2', '300.00MB', 'In use']);
  });
});

describe('rm output', () => {
  test('untagged and deleted entries print as Docker prints them', () => {
    assert.equal(formatDeleteResult([{ Untagged: 'docker.io/ai/x:latest' }, { Deleted: 'sha256:abc' }]), 'Untagged: docker.io/ai/x:latest\nDeleted: sha256:abc\n');
  });
});
