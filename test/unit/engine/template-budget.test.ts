import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Template } from '@huggingface/jinja';
import { rangeLength, TemplateBudgetExceeded, withTemplateBudget } from '../../../src/engine/worker/template-budget.js';
import { CHATML_TEMPLATE } from '../../../src/gguf/tokenizer.js';

const messages = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hello there' },
];

function render(source: string, budget?: Parameters<typeof withTemplateBudget>[1]): string {
  return withTemplateBudget(() => new Template(source).render({ messages, add_generation_prompt: true }), budget);
}

function overrun(limit: TemplateBudgetExceeded['limit']) {
  return (err: unknown) => err instanceof TemplateBudgetExceeded && err.limit === limit;
}

describe('template render budget', () => {
  test('a ChatML template renders exactly as it does without a budget', () => {
    const plain = new Template(CHATML_TEMPLATE).render({ messages, add_generation_prompt: true });
    assert.equal(render(CHATML_TEMPLATE), plain);
    assert.match(plain, /<\|im_start\|>assistant\n$/);
  });

  test('a loop over range(10^9) is refused before the list is built', () => {
    assert.throws(() => render('{% for i in range(1000000000) %}x{% endfor %}'), overrun('steps'));
  });

  test('an endless range(1/0) is refused (unbounded, it ends the process with a V8 fatal error)', () => {
    assert.throws(() => render('{% for i in range(1/0) %}x{% endfor %}'), overrun('steps'));
  });

  test('nested loops that each look small run out of steps', () => {
    assert.throws(() => render('{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}'), overrun('steps'));
  });

  test('exponential recursion through a macro runs out of steps', () => {
    const source = '{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}';
    assert.throws(() => render(source), overrun('steps'));
  });

  test('endless recursion through a macro is stopped by the nesting limit, long before the stack runs out', () => {
    const source = '{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}';
    assert.throws(() => render(source), overrun('depth'));
  });

  test('recursion as deep as a nested tool schema renders', () => {
    const source = '{% macro f(n) %}{% if n > 0 %}[{{ f(n - 1) }}]{% endif %}{% endmacro %}{{ f(20) }}';
    assert.equal(render(source), '['.repeat(20) + ']'.repeat(20));
  });

  test('a string that doubles each step is stopped at the size limit', () => {
    const source = "{% set ns = namespace(s='abcdefgh') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}";
    assert.throws(() => render(source), overrun('size'));
  });

  test('a list that doubles each step is stopped at the size limit', () => {
    const source = '{% set ns = namespace(a=[1]) %}{% for i in range(60) %}{% set ns.a = ns.a + ns.a %}{% endfor %}{{ ns.a|length }}';
    assert.throws(() => render(source), overrun('size'));
  });

  test('a loop within the step budget is stopped by the time limit', () => {
    const source = '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}';
    assert.throws(() => render(source, { maxSteps: Number.POSITIVE_INFINITY, maxChars: 1 << 20, maxItems: 1 << 20, maxMillis: 1, maxDepth: 500 }), overrun('time'));
  });

  test('an operation that swallows the overrun and retries still fails with it', () => {
    const looping = new Template('{% for i in range(1000000000) %}x{% endfor %}');
    let attempts = 0;
    assert.throws(
      () =>
        withTemplateBudget(() => {
          for (let i = 0; i < 3; i++) {
            try {
              attempts++;
              return looping.render({});
            } catch {
              // node-llama-cpp falls back to another format the same way.
            }
          }
          return 'fallback';
        }),
      overrun('steps'),
    );
    assert.equal(attempts, 3);
  });

  test('a render outside any budgeted operation gets a budget of its own', () => {
    withTemplateBudget(() => undefined); // installs the hooks
    assert.throws(() => new Template('{% for i in range(1000000000) %}x{% endfor %}').render({}), TemplateBudgetExceeded);
    assert.equal(new Template('{{ 1 + 1 }}').render({}), '2');
  });

  test('template errors that are not overruns pass through unchanged', () => {
    assert.throws(() => render("{{ raise_exception('roles must alternate') }}"), /roles must alternate/);
  });

  test('range lengths follow Python', () => {
    assert.equal(rangeLength([5]), 5);
    assert.equal(rangeLength([2, 5]), 3);
    assert.equal(rangeLength([0, 10, 3]), 4);
    assert.equal(rangeLength([10, 0, -3]), 4);
    assert.equal(rangeLength([5, 2]), 0);
    assert.equal(rangeLength([0, 5, 0]), 0);
    assert.equal(rangeLength(['a']), 0);
    assert.equal(rangeLength([Number.POSITIVE_INFINITY]), Number.POSITIVE_INFINITY);
  });
});
