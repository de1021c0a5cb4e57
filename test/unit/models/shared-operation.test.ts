import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../../src/errors.js';
import { type OperationContext, SharedOperations } from '../../../src/models/shared-operation.js';

/** An operation the test finishes by hand, so that joins happen while it is running. */
function controllable() {
  let starts = 0;
  let context: OperationContext<string> | undefined;
  let finish: (value: number) => void = () => {};
  const operation = (ctx: OperationContext<string>) => {
    starts++;
    context = ctx;
    return new Promise<number>((resolve, reject) => {
      finish = resolve;
      ctx.signal.addEventListener('abort', () => reject(new AppError('aborted', 'operation cancelled')));
    });
  };
  return { operation, starts: () => starts, context: () => context!, finish: (v: number) => finish(v) };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('operations shared by several requesters', () => {
  test('two requests for one key run the operation once and both receive every event and the result', async () => {
    const shared = new SharedOperations<string, number, string>();
    const op = controllable();
    const first: string[] = [];
    const second: string[] = [];
    const a = shared.run('k', { onEvent: (e) => first.push(e) }, op.operation);
    const b = shared.run('k', { onEvent: (e) => second.push(e) }, op.operation);
    await tick();
    op.context().emit('one');
    op.context().emit('two');
    op.finish(42);
    assert.deepEqual(await Promise.all([a, b]), [42, 42]);
    assert.equal(op.starts(), 1);
    assert.deepEqual(first, ['one', 'two']);
    assert.deepEqual(second, ['one', 'two']);
  });

  test('one requester leaving does not cancel the operation while another remains', async () => {
    const shared = new SharedOperations<string, number, string>();
    const op = controllable();
    const leaving = new AbortController();
    const a = shared.run('k', { signal: leaving.signal }, op.operation);
    const b = shared.run('k', {}, op.operation);
    await tick();
    leaving.abort();
    await assert.rejects(a, (err: AppError) => err.code === 'aborted');
    assert.equal(op.context().signal.aborted, false);
    op.finish(7);
    assert.equal(await b, 7);
  });

  test('the operation is cancelled when its last requester leaves', async () => {
    const shared = new SharedOperations<string, number, string>();
    const op = controllable();
    const one = new AbortController();
    const two = new AbortController();
    const a = shared.run('k', { signal: one.signal }, op.operation);
    const b = shared.run('k', { signal: two.signal }, op.operation);
    await tick();
    one.abort();
    two.abort();
    await Promise.allSettled([a, b]);
    assert.equal(op.context().signal.aborted, true);
  });

  test('a request after the operation finished starts a new one', async () => {
    const shared = new SharedOperations<string, number, string>();
    const op = controllable();
    const a = shared.run('k', {}, op.operation);
    await tick();
    op.finish(1);
    await a;
    assert.equal(shared.has('k'), false);
    const b = shared.run('k', {}, op.operation);
    await tick();
    op.finish(2);
    assert.equal(await b, 2);
    assert.equal(op.starts(), 2);
  });

  test('a failure reaches every requester', async () => {
    const shared = new SharedOperations<string, number, string>();
    const failing = async () => {
      throw new AppError('unsupported', 'nope');
    };
    const results = await Promise.allSettled([shared.run('k', {}, failing), shared.run('k', {}, failing)]);
    for (const r of results) assert.equal(r.status === 'rejected' && (r.reason as AppError).code, 'unsupported');
  });
});

describe('operations cancelled while others arrive', () => {
  test('a request arriving while a cancelled operation winds down starts a fresh one instead of inheriting the cancellation', async () => {
    const shared = new SharedOperations<string, number, string>();
    let starts = 0;
    let releaseFirst: () => void = () => {};
    const operation = async ({ signal }: OperationContext<string>) => {
      starts++;
      if (starts === 1) {
        // Winds down only when the test says so, long after the abort.
        await new Promise<void>((resolve) => (releaseFirst = resolve));
        if (signal.aborted) throw new AppError('aborted', 'cancelled');
      }
      return starts;
    };
    const leaving = new AbortController();
    const first = shared.run('k', { signal: leaving.signal }, operation);
    await tick();
    leaving.abort();
    await assert.rejects(first, (err: AppError) => err.code === 'aborted');
    const second = shared.run('k', {}, operation);
    releaseFirst();
    assert.equal(await second, 2);
  });
});
