import assert from 'node:assert/strict';
import { AppError } from '../../../src/errors.js';

/** Asserts that `fn` throws a bad_request AppError whose param and message both name `param`. */
export function assertBadParam(fn: () => unknown, param: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
    assert.equal(err.code, 'bad_request');
    assert.equal(err.data?.param, param);
    assert.ok(err.message.includes(param.split('[')[0]!), `message "${err.message}" should name ${param}`);
    return true;
  });
}
