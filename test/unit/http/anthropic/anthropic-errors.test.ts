import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../../../src/errors.js';
import { anthropicErrorBody } from '../../../../src/http/anthropic/anthropic-errors.js';

describe('anthropicErrorBody', () => {
  test('codes map to Anthropic error types and statuses', () => {
    const cases: Array<[AppError['code'], number, string]> = [
      ['bad_request', 400, 'invalid_request_error'],
      ['context_exceeded', 400, 'invalid_request_error'],
      ['not_found', 404, 'not_found_error'],
      ['busy', 529, 'overloaded_error'],
      ['internal', 500, 'api_error'],
    ];
    for (const [code, status, type] of cases) {
      const out = anthropicErrorBody(new AppError(code, 'why'));
      assert.equal(out.status, status, code);
      assert.deepEqual(out.body, { type: 'error', error: { type, message: 'why' } });
    }
  });
});
