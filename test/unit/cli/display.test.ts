import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { displayModelName, formatRelativeTime, formatTable, humanDuration, shortId } from '../../../src/cli/client/display.js';

describe('model names for display', () => {
  test('the default registry, the ai/ namespace and the latest tag are stripped', () => {
    assert.equal(displayModelName('docker.io/ai/smollm2:latest'), 'smollm2');
    assert.equal(displayModelName('index.docker.io/ai/smollm2:latest'), 'smollm2');
    assert.equal(displayModelName('ai/smollm2:latest'), 'smollm2');
  });

  test('a tag other than latest and a namespace other than ai are kept', () => {
    assert.equal(displayModelName('docker.io/ai/smollm2:360M-Q4_K_M'), 'smollm2:360M-Q4_K_M');
    assert.equal(displayModelName('docker.io/myorg/model:latest'), 'myorg/model');
  });

  test('another registry is kept, and so is an ai/ that is not the first path segment', () => {
    assert.equal(displayModelName('localhost:5000/ai/model:latest'), 'localhost:5000/ai/model');
    assert.equal(displayModelName('huggingface.co/org/repo:Q4_K_M'), 'huggingface.co/org/repo:Q4_K_M');
  });
});

describe('short IDs', () => {
  test('the first 12 hex characters after sha256: are shown', () => {
    assert.equal(shortId(`sha256:${'0123456789ab'}${'f'.repeat(52)}`), '0123456789ab');
    assert.equal(shortId('abcdef0123456789'), 'abcdef012345');
  });
});

describe('tables', () => {
  test('columns are padded to their widest cell and separated by three spaces without trailing blanks', () => {
    const text = formatTable(['A', 'LONG HEADER', 'Z'], [['wide cell', 'x', ''], ['y', 'z', 'last']]);
    assert.equal(text, 'A           LONG HEADER   Z\nwide cell   x\ny           z             last\n');
  });

  test('a table without rows is just its header line', () => {
    assert.equal(formatTable(['ID', 'MODEL'], []), 'ID   MODEL\n');
  });
});

describe('relative times', () => {
  const second = 1000;
  const minute = 60 * second;
  const hour = 60 * minute;
  const day = 24 * hour;

  test('durations read the way Go units.HumanDuration writes them', () => {
    assert.equal(humanDuration(500), 'Less than a second');
    assert.equal(humanDuration(second), '1 second');
    assert.equal(humanDuration(45 * second), '45 seconds');
    assert.equal(humanDuration(90 * second), 'About a minute');
    assert.equal(humanDuration(30 * minute), '30 minutes');
    assert.equal(humanDuration(65 * minute), 'About an hour');
    assert.equal(humanDuration(5 * hour), '5 hours');
    assert.equal(humanDuration(3 * day), '3 days');
    assert.equal(humanDuration(20 * day), '2 weeks');
    assert.equal(humanDuration(90 * day), '3 months');
    assert.equal(humanDuration(800 * day), '2 years');
  });

  test('past times end in "ago" and future ones in "from now"', () => {
    const now = Date.UTC(2025, 5, 1);
    assert.equal(formatRelativeTime(now - 3 * day, now), '3 days ago');
    assert.equal(formatRelativeTime(now + 4 * minute, now), '4 minutes from now');
  });
});
