/**
 * Rules the suite keeps about itself: `npm test` is `make test`, and no test sleeps a fixed time
 * waiting for something or asserts on elapsed time (a slow machine would fail it, a fast one
 * would let it pass without testing anything). Waiting goes through events, an injected clock, or
 * test/e2e/support/wait.ts for state only a poll can see.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT } from '../../support/server-harness.js';

/** Fixed timers that wait for nothing: a fixture pacing the stream it serves. */
const PACING = new Set(['test/bench/bench-client.test.ts']);

/**
 * A fixed wait: a timer of a literal length around any callback (`setTimeout(r, 50)`,
 * `setTimeout(() => done(), 200)`), a promise's resolve put on a timer of a constant length
 * (`setTimeout(resolve, WAIT_MS)`), the promise form of node:timers/promises (`setTimeout(50)`),
 * or a sleep/delay helper given a number.
 */
const FIXED_WAIT = [
  /\bsetTimeout\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*,\s*[\d_]+\s*\)/,
  /\bsetTimeout\(\s*\w+\s*,\s*[A-Z][A-Z\d_]*\s*\)/,
  /\bsetTimeout\(\s*[\d_]+\s*[,)]/,
  /\b(?:sleep|delay)\(\s*(?:[\d_]+|[A-Z][A-Z\d_]*)\s*[,)]/,
];
/** A measured time held only to be at least zero (`ttft.p50 >= 0`): true on any machine, so it tests nothing. */
const VACUOUS_TIME = /\w*(?:Ms|_ms|p\d\d|[Dd]uration|[Ee]lapsed)!?\s*>=\s*0(?![\d.])/;

function testFiles(dir: string): string[] {
  return readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const child = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return testFiles(child);
    return entry.name.endsWith('.test.ts') ? [child] : [];
  });
}

describe('the habits of the test suite', () => {
  test('npm test runs make test, whose test target runs every test file', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.test, 'make test');
    const makefile = readFileSync(path.join(REPO_ROOT, 'Makefile'), 'utf8');
    assert.match(makefile, /^TEST_FILES = \$\(shell find test -name '\*\.test\.ts' \| sort\)$/m);
    assert.match(makefile, /^test: .*\n\t.*--test .*\$\(TEST_FILES\)$/m);
  });

  test('no test sleeps a fixed time or asserts on elapsed time', () => {
    const files = testFiles('test');
    assert.ok(files.length > 100, `found ${files.length} test files`);
    const found: string[] = [];
    for (const file of files) {
      readFileSync(path.join(REPO_ROOT, file), 'utf8').split('\n').forEach((line, i) => {
        // Comments may name what is forbidden.
        if (/^\s*(?:\*|\/\/|\/\*)/.test(line)) return;
        const sleeps = FIXED_WAIT.some((pattern) => pattern.test(line)) && !PACING.has(file);
        const timesItself = /assert/.test(line) && /\b(Date\.now|performance\.now)\(\)/.test(line);
        const vacuousTime = /assert/.test(line) && VACUOUS_TIME.test(line);
        if (sleeps || timesItself || vacuousTime) found.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    assert.deepEqual(found, []);
  });
});
