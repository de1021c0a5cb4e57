/**
 * Bounds on chat-template rendering. A model's Jinja template is code from the model file: a loop
 * of 10^9 steps, runaway recursion or a string that doubles each step would otherwise pin the
 * Worker's thread for good or end the whole process with a V8 out-of-memory. node-llama-cpp
 * renders templates with @huggingface/jinja, which has no budget of its own, so this module
 * meters its interpreter: every evaluated node is a step, `range(n)` costs n steps and is refused
 * past the step budget before it allocates, every string a node produces is measured, nodes may
 * nest only so deep, and the clock is read every few thousand steps. An operation (resolving a
 * wrapper, rendering one request, which may render many times) that overran throws
 * TemplateBudgetExceeded, even when the code in between caught the first error and retried.
 *
 * Hand-written because no library offers a budgeted Jinja renderer; hooks are installed once per
 * thread (each Worker and child process has its own copy of the interpreter).
 */
import { Interpreter, Template } from '@huggingface/jinja';

export interface TemplateBudget {
  /** Nodes the interpreter may evaluate in one render (range(n) counts n). */
  maxSteps: number;
  /** Longest string any expression may produce, in UTF-16 code units. */
  maxChars: number;
  /** Longest list any expression may produce (a list that doubles each step would end the process with a V8 fatal error). */
  maxItems: number;
  /** Wall-clock time one render may take, in milliseconds. */
  maxMillis: number;
  /**
   * How deep evaluated nodes may nest (a macro call inside a macro call counts a few levels per
   * call). Runaway recursion would otherwise run into V8's stack limit, which is about 1,000
   * levels on a process's main thread and about 4,000 in a Worker, where each failing render took
   * 165 ms: node-llama-cpp renders a template hundreds of times to match it to a known format,
   * and one model's load took 193 s.
   */
  maxDepth: number;
}

/**
 * Per render. Generous for real templates (a 200-message conversation with tools renders in a few
 * percent of these), small enough that an overrun costs about a second and tens of megabytes. The
 * time limit is a backstop for slow single steps and is wide, since a busy machine slows every
 * render: steps and sizes are what bound a template, the same on every machine. Real templates
 * nest a few dozen levels (a recursive macro over a tool's JSON schema, a few per schema level);
 * 500 stays under the stack limit of every thread.
 */
export const DEFAULT_TEMPLATE_BUDGET: TemplateBudget = { maxSteps: 500_000, maxChars: 16 * 1024 * 1024, maxItems: 1_000_000, maxMillis: 10_000, maxDepth: 500 };

/** How often, in steps, the meter reads the clock. */
const CLOCK_EVERY_STEPS = 4096;

export type BudgetLimit = 'steps' | 'size' | 'time' | 'depth';

export class TemplateBudgetExceeded extends Error {
  constructor(
    readonly limit: BudgetLimit,
    readonly budget: TemplateBudget,
  ) {
    super(describeOverrun(limit, budget));
    this.name = 'TemplateBudgetExceeded';
  }
}

function describeOverrun(limit: BudgetLimit, budget: TemplateBudget): string {
  if (limit === 'steps') return `the chat template ran more than ${budget.maxSteps} steps`;
  if (limit === 'size') return `the chat template produced a string longer than ${budget.maxChars} characters or a list longer than ${budget.maxItems} items`;
  if (limit === 'depth') return `the chat template nested deeper than ${budget.maxDepth} levels (runaway recursion)`;
  return `the chat template ran longer than ${budget.maxMillis} ms`;
}

/** One budgeted operation (which may render many times); remembers an overrun its code swallowed. */
interface Scope {
  budget: TemplateBudget;
  tripped: TemplateBudgetExceeded | undefined;
}

/** The budget of one render. */
class Meter {
  private steps = 0;
  private depth = 0;
  private readonly deadline: number;

  constructor(private readonly scope: Scope) {
    this.deadline = performance.now() + scope.budget.maxMillis;
  }

  charge(steps: number): void {
    if (this.scope.tripped) throw this.scope.tripped;
    const before = this.steps;
    this.steps += steps;
    if (this.steps > this.scope.budget.maxSteps) this.trip('steps');
    if (Math.floor(before / CLOCK_EVERY_STEPS) !== Math.floor(this.steps / CLOCK_EVERY_STEPS) && performance.now() > this.deadline) {
      this.trip('time');
    }
  }

  /** A node starts evaluating inside the ones still evaluating. */
  enter(): void {
    if (++this.depth > this.scope.budget.maxDepth) this.trip('depth');
  }

  leave(): void {
    this.depth--;
  }

  measure(value: unknown): void {
    const inner = (value as { value?: unknown } | undefined)?.value;
    if (typeof inner === 'string' && inner.length > this.scope.budget.maxChars) this.trip('size');
    if (Array.isArray(inner) && inner.length > this.scope.budget.maxItems) this.trip('size');
  }

  private trip(limit: BudgetLimit): never {
    this.scope.tripped = new TemplateBudgetExceeded(limit, this.scope.budget);
    throw this.scope.tripped;
  }
}

let scope: Scope | undefined;
let active: Meter | undefined;

/**
 * Runs `operation` (synchronous: rendering is) so that every template render inside it gets
 * `budget`. Throws TemplateBudgetExceeded when any render overran, whatever `operation` did with
 * the error it saw (node-llama-cpp catches render errors and retries other formats); after an
 * overrun, further renders in the operation fail at once.
 */
export function withTemplateBudget<T>(operation: () => T, budget: TemplateBudget = DEFAULT_TEMPLATE_BUDGET): T {
  installBudgetHooks();
  const outer = scope;
  const current: Scope = { budget, tripped: undefined };
  scope = current;
  try {
    const result = operation();
    if (current.tripped) throw current.tripped;
    return result;
  } catch (err) {
    throw current.tripped ?? err;
  } finally {
    scope = outer;
  }
}

/** Renders once under the current operation's budget, with a meter of its own. */
function meteredRender<T>(render: () => T): T {
  const current = scope!;
  if (current.tripped) throw current.tripped;
  const outer = active;
  active = new Meter(current);
  try {
    return render();
  } finally {
    active = outer;
  }
}

let installed = false;

type Evaluate = (this: Interpreter, statement: unknown, environment: unknown) => unknown;
type Run = (this: Interpreter, program: unknown) => unknown;
type Render = (this: Template, items?: Record<string, unknown>) => string;
interface FunctionValueLike {
  value: (args: Array<{ value: unknown }>, scope: unknown) => unknown;
}

/** Patches the interpreter once: a render outside withTemplateBudget still gets its own budget. */
export function installBudgetHooks(): void {
  if (installed) return;
  installed = true;
  const proto = Interpreter.prototype as unknown as { evaluate: Evaluate; run: Run; global: { variables: Map<string, unknown> } };
  const evaluate = proto.evaluate;
  proto.evaluate = function (statement, environment) {
    const meter = active;
    if (!meter) return evaluate.call(this, statement, environment);
    meter.charge(1);
    meter.enter();
    try {
      const result = evaluate.call(this, statement, environment);
      meter.measure(result);
      return result;
    } finally {
      meter.leave();
    }
  };
  const run = proto.run;
  proto.run = function (program) {
    boundRange((this as unknown as { global: { variables: Map<string, unknown> } }).global.variables.get('range'));
    return run.call(this, program);
  };
  const templateProto = Template.prototype as unknown as { render: Render };
  const render = templateProto.render;
  templateProto.render = function (items) {
    const once = () => meteredRender(() => render.call(this, items));
    return scope ? once() : withTemplateBudget(once);
  };
}

/** range(n) builds its whole list in one step: charge its length first, so 10^9 is refused before it allocates. */
function boundRange(range: unknown): void {
  const fn = range as FunctionValueLike | undefined;
  if (typeof fn?.value !== 'function') return;
  const inner = fn.value;
  fn.value = (args, scope) => {
    active?.charge(rangeLength(args.map((a) => a.value)));
    return inner(args, scope);
  };
}

/**
 * The number of items range(...) would produce, as Python counts them: 0 for arguments it
 * rejects, Infinity for an endless one (range(1e309) would loop until memory runs out).
 */
export function rangeLength(args: readonly unknown[]): number {
  const numbers = args.filter((a): a is number => typeof a === 'number');
  if (numbers.length !== args.length || numbers.length === 0) return 0;
  const [start, stop, step] = numbers.length === 1 ? [0, numbers[0]!, 1] : [numbers[0]!, numbers[1]!, numbers[2] ?? 1];
  if (step === 0 || Number.isNaN(start) || Number.isNaN(stop) || Number.isNaN(step)) return 0;
  const length = Math.ceil((stop - start) / step);
  if (Number.isNaN(length)) return Number.POSITIVE_INFINITY;
  return length > 0 ? length : 0;
}
