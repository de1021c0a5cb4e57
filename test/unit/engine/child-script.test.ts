import assert from 'node:assert/strict';
import { test } from 'node:test';
import { childNodeFlags, type ChildScript } from '../../../src/engine/child-script.js';

const script: ChildScript = { modulePath: '/app/dist/engine/worker/admission-child.js', execArgv: [] };

test('under node, the flags go on the child command line and the environment is left as it is', () => {
  const env = { HOME: '/home/u' };
  assert.deepEqual(childNodeFlags({ ...script, execArgv: ['--import', 'tsx'] }, ['--max-old-space-size=512'], env, false), {
    execArgv: ['--import', 'tsx', '--max-old-space-size=512'],
    env,
  });
});

test('in the single binary, the flags go into NODE_OPTIONS after the ones already there, and none on the command line', () => {
  const result = childNodeFlags(script, ['--max-old-space-size=512'], { HOME: '/home/u', NODE_OPTIONS: '--trace-warnings' }, true);
  assert.deepEqual(result, { execArgv: [], env: { HOME: '/home/u', NODE_OPTIONS: '--trace-warnings --max-old-space-size=512' } });
  assert.equal(childNodeFlags(script, ['--max-old-space-size=512'], {}, true).env.NODE_OPTIONS, '--max-old-space-size=512');
});

test('in the single binary, a child without flags gets the environment untouched', () => {
  const env = { HOME: '/home/u' };
  assert.deepEqual(childNodeFlags(script, [], env, true), { execArgv: [], env });
});
