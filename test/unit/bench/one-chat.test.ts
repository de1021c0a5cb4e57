import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withToken } from '../../../src/bench/compare/one-chat.js';
import type { StreamOutcome } from '../../../src/bench/http-client.js';

const outcome = (fields: Partial<StreamOutcome>): StreamOutcome => ({ ok: true, status: 200, startMs: 10, endMs: 50, contentChunks: 1, ...fields });

describe('a side measurement request', () => {
  it('passes through when a token came back', () => {
    const got = outcome({ firstTokenMs: 30 });
    assert.equal(withToken(got, 'cold start'), got);
  });

  it('fails with what was measured and the error when the request failed', () => {
    assert.throws(() => withToken(outcome({ ok: false, status: 0, error: 'socket hang up' }), 'cold start'), { message: 'cold start request failed: socket hang up' });
  });

  it('fails with the status when an answer came without a token or an error text', () => {
    assert.throws(() => withToken(outcome({ ok: false, status: 503 }), 'restored prefix'), { message: 'restored prefix request failed: status 503' });
    assert.throws(() => withToken(outcome({ contentChunks: 0 }), 'cached-conversations'), { message: 'cached-conversations request failed: status 200' });
  });
});
