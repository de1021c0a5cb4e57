import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withModelDefaults } from '../../../src/ollama/model-defaults.js';

const EXTRAS = {
  system: 'Be brief.',
  parameters: { temperature: 0.1, top_k: 5 },
  messages: [
    { role: 'user', content: 'Who are you?' },
    { role: 'assistant', content: 'A model.' },
  ],
};

describe("a created model's extras applied to a request", () => {
  test("a chat without a system message gets the model's system prompt first, then its messages, then its own", () => {
    const body = withModelDefaults('chat', { model: 'm', messages: [{ role: 'user', content: 'Hi' }] }, EXTRAS);
    assert.deepEqual(body.messages, [{ role: 'system', content: 'Be brief.' }, ...EXTRAS.messages, { role: 'user', content: 'Hi' }]);
  });

  test('a chat that opens with its own system message keeps it instead of the model\'s', () => {
    const own = [{ role: 'system', content: 'Be verbose.' }, { role: 'user', content: 'Hi' }];
    const body = withModelDefaults('chat', { model: 'm', messages: own }, { system: 'Be brief.' });
    assert.deepEqual(body.messages, own);
  });

  test("the model's parameters sit under the request's options, which win", () => {
    const body = withModelDefaults('chat', { model: 'm', messages: [], options: { temperature: 0.9 } }, EXTRAS);
    assert.deepEqual(body.options, { temperature: 0.9, top_k: 5 });
    assert.deepEqual(withModelDefaults('generate', { model: 'm', prompt: 'x' }, EXTRAS).options, { temperature: 0.1, top_k: 5 });
  });

  test('an empty chat (a load request) stays empty, and malformed fields are left for the parser', () => {
    assert.deepEqual(withModelDefaults('chat', { model: 'm', messages: [] }, EXTRAS).messages, []);
    assert.equal(withModelDefaults('chat', { model: 'm', messages: 'hi' }, EXTRAS).messages, 'hi');
    assert.equal(withModelDefaults('chat', { model: 'm', options: 7 }, EXTRAS).options, 7);
  });

  test("generate takes the model's system prompt unless it names one or is raw", () => {
    assert.equal(withModelDefaults('generate', { model: 'm', prompt: 'x' }, EXTRAS).system, 'Be brief.');
    assert.equal(withModelDefaults('generate', { model: 'm', prompt: 'x', system: 'Mine.' }, EXTRAS).system, 'Mine.');
    assert.equal(withModelDefaults('generate', { model: 'm', prompt: 'x', raw: true }, EXTRAS).system, undefined);
  });

  test('a model without extras leaves the request as it was', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'Hi' }], options: { seed: 1 } };
    assert.deepEqual(withModelDefaults('chat', body, {}), body);
  });
});
