/**
 * Fakes for the scheduler's injected dependencies: handles whose load and failure the test
 * controls, and a clock whose time only moves when the test says so.
 */
import { AppError } from '../../../src/errors.js';
import { createSilentLogger } from '../../../src/log.js';
import type { Clock } from '../../../src/engine/clock.js';
import type { HandleInfo, ModelHandle, ResolvedSettings } from '../../../src/engine/handle-types.js';
import { Scheduler } from '../../../src/engine/scheduler.js';
import type { SchedulerOptions } from '../../../src/engine/scheduler-types.js';
import type { GenerateEvent, LoadSpec } from '../../../src/engine/types.js';

export class FakeClock implements Clock {
  time = 1_000_000;
  private timers: Array<{ at: number; callback: () => void; id: number }> = [];
  private nextId = 1;
  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.time + ms, callback, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  /** Moves time forward and runs the timers that came due. */
  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((t) => t.at <= this.time);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const t of due) t.callback();
  }
}

export class FakeHandle implements ModelHandle {
  info: HandleInfo | undefined;
  loads = 0;
  disposed = false;
  /** Every share of the cores the scheduler gave it, in order. */
  threadChanges: number[] = [];
  private failure?: (e: AppError) => void;
  private retirement?: (reason: string) => void;
  private finishLoad?: { resolve: (i: HandleInfo) => void; reject: (e: unknown) => void };

  constructor(
    readonly spec: LoadSpec,
    readonly settings: ResolvedSettings,
    private readonly options: { manualLoad?: boolean; memoryBytes?: number },
  ) {}

  load(): Promise<HandleInfo> {
    this.loads++;
    const info = { ...this.settings, memoryBytes: this.options.memoryBytes ?? 0, backend: 'fake', version: '1' };
    if (!this.options.manualLoad) return Promise.resolve((this.info = info));
    return new Promise((resolve, reject) => (this.finishLoad = { resolve: (i) => resolve((this.info = i)), reject })).then(() => this.info!);
  }
  completeLoad(): void {
    this.finishLoad?.resolve({ ...this.settings, memoryBytes: this.options.memoryBytes ?? 0, backend: 'fake', version: '1' });
  }
  failLoad(error: unknown): void {
    this.finishLoad?.reject(error);
  }
  async dispose(): Promise<void> {
    this.disposed = true;
  }
  setThreads(threads: number): void {
    this.threadChanges.push(threads);
  }
  onFailure(listener: (e: AppError) => void): void {
    this.failure = listener;
  }
  onRetire(listener: (reason: string) => void): void {
    this.retirement = listener;
  }
  /** The engine asks to be replaced, as a Worker does after a chat template overran. */
  retire(): void {
    this.retirement?.('its chat template overran the steps budget');
  }
  crash(): void {
    this.failure?.(new AppError('internal', 'worker died'));
  }
  async *generate(): AsyncIterable<GenerateEvent> {
    yield { type: 'text', text: 'hi' };
  }
  async embed() {
    return { vectors: [], promptTokens: 0 };
  }
  async tokenize() {
    return [];
  }
  async rank(): Promise<never> {
    throw new AppError('unsupported', 'the fake engine does not rank');
  }
  async tokens(): Promise<never> {
    throw new AppError('unsupported', 'the fake engine has no tokenizer routes');
  }
}

export function spec(name: string, extra: Partial<LoadSpec> = {}): LoadSpec {
  return { id: `sha256:${name.padEnd(64, '0')}`, name, modelPath: `/models/${name}.gguf`, mode: 'completion', settings: {}, ...extra };
}

export interface Harness {
  scheduler: Scheduler;
  clock: FakeClock;
  handles: FakeHandle[];
  freeBytes: { value: number };
}

/** A scheduler with fakes; `sizes` gives each model's estimated bytes by name (default 100). */
export function harness(options: Partial<SchedulerOptions> & { sizes?: Record<string, number>; manualLoad?: boolean } = {}): Harness {
  const clock = new FakeClock();
  const handles: FakeHandle[] = [];
  const freeBytes = { value: 1e12 };
  const sizes = options.sizes ?? {};
  const scheduler = new Scheduler({
    createHandle: (s, settings) => {
      const h = new FakeHandle(s, settings, { manualLoad: options.manualLoad, memoryBytes: sizes[s.name] ?? 100 });
      handles.push(h);
      return h;
    },
    clock,
    memoryProbe: () => ({ freeBytes: freeBytes.value }),
    estimateBytes: async (s) => sizes[s.name] ?? 100,
    maxLoadedModels: 4,
    defaultKeepAlive: '5m',
    defaultParallel: 1,
    maxQueue: 8,
    threadBudget: 4,
    logger: createSilentLogger(),
    ...options,
  });
  return { scheduler, clock, handles, freeBytes };
}

/** Lets pending promise callbacks run (loads, estimates, disposals). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}
