/**
 * Decides which models are loaded and who may use them. A request acquires a lease on a
 * model: the first request loads it (one load however many arrive at once), each model serves
 * as many requests at once as it has sequences, extra requests wait in a bounded FIFO, idle
 * models unload after their keep-alive, and a new model evicts idle ones (least recently used
 * first) when the model count, the thread budget or memory says so.
 */
import os from 'node:os';
import { AppError } from '../errors.js';
import { parseDurationMs } from '../util/units.js';
import { systemClock, type Clock } from './clock.js';
import type { ResolvedSettings } from './handle-types.js';
import { estimateModelBytes } from './memory-estimate.js';
import { placeModel } from './placement.js';
import { resolveSettings, runnerKey, runnerMatches, runnerStatus, type Runner } from './runner.js';
import { shareThreads } from './thread-shares.js';
import type { AcquireOptions, Lease, RunnerStatus, SchedulerOptions } from './scheduler-types.js';
import type { LoadSpec } from './types.js';

interface Waiter {
  key: string;
  spec: LoadSpec;
  settings: ResolvedSettings;
  keepAliveMs: number;
  keepAliveText: string;
  estimate?: number;
  estimating?: boolean;
  resolve: (lease: Lease) => void;
  reject: (error: unknown) => void;
  detach: () => void;
}

/** Smoothing of the average lease duration that retryAfterSeconds is derived from. */
const HOLD_EMA_WEIGHT = 0.2;

export class Scheduler {
  private readonly runners = new Map<string, Runner>();
  private readonly stopping = new Set<Runner>();
  private readonly pending: Waiter[] = [];
  private readonly clock: Clock;
  private avgHoldMs = 1000;
  private engineInfo: { backend: string; version: string };
  private pumping = false;
  private repump = false;
  private closed = false;

  constructor(private readonly options: SchedulerOptions) {
    this.clock = options.clock ?? systemClock;
    this.engineInfo = options.engineInfo ?? { backend: 'llama.cpp', version: 'unknown' };
  }

  async acquire(spec: LoadSpec, options: AcquireOptions = {}): Promise<Lease> {
    if (this.closed) throw new AppError('unavailable', 'the scheduler is shutting down');
    const keepAliveText = String(options.keepAlive ?? spec.settings.keepAlive ?? this.options.defaultKeepAlive);
    const keepAliveMs = parseDurationMs(keepAliveText, 'keep_alive');
    const { signal } = options;
    if (signal?.aborted) throw new AppError('aborted', 'the request was cancelled before a model slot was free');
    const key = runnerKey(spec);
    const settings = resolveSettings(spec, this.options);
    const runner = this.runners.get(key);
    const queued = this.pending.filter((w) => w.key === key).length;
    const capacity = runner ? (runner.state === 'ready' ? runner.settings.parallel - runner.refCount : runner.settings.parallel) : settings.parallel;
    const parallel = runner?.settings.parallel ?? settings.parallel;
    if (queued + 1 - capacity > this.options.maxQueue) {
      const retryAfterSeconds = Math.max(1, Math.ceil((this.avgHoldMs * (queued + 1)) / parallel / 1000));
      throw new AppError('busy', `model ${spec.name} has ${queued} requests waiting, the most allowed is ${this.options.maxQueue}; retry later`, {
        data: { retryAfterSeconds },
      });
    }
    return new Promise<Lease>((resolve, reject) => {
      const onAbort = () => {
        const i = this.pending.indexOf(waiter);
        if (i < 0) return;
        this.pending.splice(i, 1);
        reject(new AppError('aborted', 'the request was cancelled while waiting for a model slot'));
        this.pump();
      };
      const waiter: Waiter = {
        key, spec, settings, keepAliveMs, keepAliveText, resolve, reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.push(waiter);
      this.pump();
    });
  }

  /** Requests waiting for a slot or a load, over all models. */
  queueDepth(): number {
    return this.pending.length;
  }

  status(): { backend: string; version: string } {
    return { ...this.engineInfo };
  }

  ps(): RunnerStatus[] {
    return [...this.runners.values()].map(runnerStatus);
  }

  /** Unloads idle models: all of them, or those named (by id, short id or name). Returns how many. */
  async unload(selector: { all?: boolean; models?: string[] }): Promise<number> {
    const wanted = (r: Runner) => selector.all === true || (selector.models ?? []).some((m) => runnerMatches(r, m));
    const victims = [...this.runners.values()].filter((r) => r.state === 'ready' && r.refCount === 0 && wanted(r));
    await Promise.all(victims.map((r) => this.unloadRunner(r)));
    return victims.length;
  }

  /** Ends the runners of deleted models, none taking new work: idle ones unload now (counted), busy ones when their requests end. */
  async retire(selector: { models: string[] }, reason: string): Promise<number> {
    const busy = [...this.runners.values()].filter((r) => (r.state !== 'ready' || r.refCount > 0) && selector.models.some((m) => runnerMatches(r, m)));
    for (const runner of busy) this.retireRunner(runner, reason);
    return this.unload(selector);
  }

  /** Unloads the idle runners of a model so its next load uses new settings; a busy one is a conflict. */
  async reconfigure(id: string): Promise<void> {
    const runners = [...this.runners.values()].filter((r) => runnerMatches(r, id));
    const busy = runners.find((r) => r.state === 'loading' || r.refCount > 0);
    if (busy) throw new AppError('conflict', `model ${busy.spec.name} is in use; wait for its requests to finish before changing its settings`);
    await Promise.all(runners.map((r) => this.unloadRunner(r)));
  }

  /** Refuses new work, fails waiting requests, and stops every model cooperatively (in-flight work is aborted). */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.pending.splice(0)) {
      w.detach();
      w.reject(new AppError('unavailable', 'the server is shutting down'));
    }
    await Promise.all([...this.runners.values()].map((r) => this.unloadRunner(r)));
    await Promise.all([...this.stopping].map((r) => r.handle.dispose()));
  }

  /** Serves waiters in order: grant free slots, start loads that fit, leave the rest waiting. */
  private pump(): void {
    if (this.pumping) {
      this.repump = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.repump = false;
        for (const w of [...this.pending]) this.serve(w);
      } while (this.repump);
    } finally {
      this.pumping = false;
    }
  }

  private serve(w: Waiter): void {
    if (!this.pending.includes(w)) return;
    const runner = this.runners.get(w.key);
    if (runner) {
      if (runner.state === 'ready' && runner.refCount < runner.settings.parallel) this.grant(w, runner);
      return;
    }
    if (w.estimate === undefined) return this.startEstimate(w);
    let placement;
    try {
      placement = placeModel({ name: w.spec.name, threads: w.settings.threads, memoryBytes: w.estimate }, this.residents(), {
        maxLoadedModels: this.options.maxLoadedModels,
        threadBudget: this.options.threadBudget,
        memoryBudgetBytes: this.options.memoryBudgetBytes,
        freeBytes: this.options.memoryBudgetBytes === undefined ? this.freeBytes() : 0,
      });
    } catch (err) {
      return this.failWaiters(w.key, err);
    }
    if (placement.kind === 'wait') return;
    for (const r of placement.evict) void this.unloadRunner(r.runner);
    this.startLoad(w, w.estimate);
  }

  private residents() {
    const entry = (r: Runner, stopping: boolean) => ({
      runner: r,
      threads: r.settings.threads,
      memoryBytes: r.memoryBytes,
      idle: !stopping && r.state === 'ready' && r.refCount === 0,
      loading: r.state === 'loading',
      lastUsed: r.lastUsed,
      stopping,
    });
    return [...[...this.runners.values()].map((r) => entry(r, false)), ...[...this.stopping].map((r) => entry(r, true))];
  }

  private freeBytes(): number {
    return (this.options.memoryProbe ?? (() => ({ freeBytes: os.freemem() })))().freeBytes;
  }

  private startEstimate(w: Waiter): void {
    if (w.estimating) return;
    w.estimating = true;
    const estimate = this.options.estimateBytes ?? estimateModelBytes;
    estimate(w.spec, w.settings.contextSize, this.options.kvUnified ? 1 : w.settings.parallel).then(
      (bytes) => {
        w.estimate = bytes;
        this.pump();
      },
      (err: unknown) => this.failWaiters(w.key, err),
    );
  }

  private startLoad(w: Waiter, estimate: number): void {
    const handle = this.options.createHandle(w.spec, w.settings);
    const now = this.clock.now();
    const runner: Runner = {
      key: w.key, spec: w.spec, handle, settings: w.settings, threadsNow: w.settings.threads, memoryBytes: estimate, state: 'loading', gone: false,
      refCount: 0, keepAliveMs: w.keepAliveMs, keepAliveText: w.keepAliveText, expiresAt: null, lastUsed: now,
    };
    this.runners.set(w.key, runner);
    // Before load(): the model starts with its share of what is free now.
    this.shareThreads();
    handle.onFailure((error) => {
      this.options.logger.error('model failed; it will be reloaded on the next request', { model: w.spec.name, error: error.message });
      void this.unloadRunner(runner);
    });
    handle.onRetire((reason) => this.retireRunner(runner, reason));
    this.options.logger.info('loading model', { model: w.spec.name, mode: w.spec.mode, ...w.settings, estimatedBytes: estimate });
    handle.load().then(
      (info) => {
        if (runner.gone) return;
        runner.state = 'ready';
        runner.info = info;
        if (info.memoryBytes > 0) runner.memoryBytes = info.memoryBytes;
        runner.lastUsed = this.clock.now();
        this.engineInfo = { backend: info.backend, version: info.version };
        this.pump();
        if (runner.refCount === 0) this.becomeIdle(runner);
      },
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        // A load called off by an unload or the shutdown is not a failure of the model.
        if (runner.gone && err instanceof AppError && err.code === 'aborted') this.options.logger.info('model load cancelled', { model: w.spec.name });
        else this.options.logger.error('model failed to load', { model: w.spec.name, error: message });
        void this.unloadRunner(runner);
        this.failWaiters(w.key, err);
      },
    );
  }

  private grant(w: Waiter, runner: Runner): void {
    this.pending.splice(this.pending.indexOf(w), 1);
    w.detach();
    runner.refCount++;
    runner.keepAliveMs = w.keepAliveMs;
    runner.keepAliveText = w.keepAliveText;
    this.cancelIdle(runner);
    const grantedAt = this.clock.now();
    let released = false;
    w.resolve({
      session: runner.handle,
      settings: { contextSize: runner.settings.contextSize, parallel: runner.settings.parallel },
      release: () => {
        if (released) return;
        released = true;
        this.avgHoldMs += HOLD_EMA_WEIGHT * (this.clock.now() - grantedAt - this.avgHoldMs);
        if (runner.gone) return this.pump();
        runner.refCount--;
        if (runner.retiring) {
          if (runner.refCount === 0) void this.unloadRunner(runner);
          return this.pump();
        }
        runner.lastUsed = this.clock.now();
        this.pump();
        if (runner.refCount === 0 && !runner.gone) this.becomeIdle(runner);
      },
    });
  }

  private becomeIdle(runner: Runner): void {
    this.cancelIdle(runner);
    if (runner.keepAliveMs === 0) return void this.unloadRunner(runner);
    if (runner.keepAliveMs < 0) return;
    runner.expiresAt = this.clock.now() + runner.keepAliveMs;
    runner.timer = this.clock.setTimeout(() => {
      runner.timer = undefined;
      if (runner.refCount === 0 && !runner.gone) void this.unloadRunner(runner);
    }, runner.keepAliveMs);
  }

  private cancelIdle(runner: Runner): void {
    if (runner.timer !== undefined) this.clock.clearTimeout(runner.timer);
    runner.timer = undefined;
    runner.expiresAt = null;
  }

  /**
   * Replaces a runner whose engine asked to retire: the next request for its model loads a fresh
   * one, while the leases it holds run to their end; it is disposed when the last is released.
   * Its resources stay counted until then.
   */
  private retireRunner(runner: Runner, reason: string): void {
    if (runner.gone || runner.retiring) return;
    this.options.logger.warn('model retired; its next request loads it afresh', { model: runner.spec.name, reason });
    if (runner.refCount === 0) return void this.unloadRunner(runner);
    runner.retiring = true;
    this.cancelIdle(runner);
    if (this.runners.get(runner.key) === runner) this.runners.delete(runner.key);
    this.stopping.add(runner);
    this.pump();
  }

  /** Removes a runner at once (its resources stay counted until the handle has stopped), then serves waiters. */
  private async unloadRunner(runner: Runner): Promise<void> {
    if (runner.gone) return;
    runner.gone = true;
    this.cancelIdle(runner);
    if (this.runners.get(runner.key) === runner) this.runners.delete(runner.key);
    this.stopping.add(runner);
    this.options.logger.info('unloading model', { model: runner.spec.name, mode: runner.spec.mode });
    try {
      await runner.handle.dispose();
    } catch (err) {
      this.options.logger.warn('model did not stop cleanly', { model: runner.spec.name, error: err instanceof Error ? err.message : String(err) });
    } finally {
      this.stopping.delete(runner);
      this.shareThreads();
      this.pump();
    }
  }

  /** Gives every loaded model its share of the thread budget now (see thread-shares.ts). */
  private shareThreads(): void {
    const claim = (r: Runner, stopping: boolean) => ({ key: r, threads: r.settings.threads, maxThreads: r.settings.maxThreads ?? r.settings.threads, holding: r.threadsNow, stopping });
    const claims = [...[...this.runners.values()].map((r) => claim(r, false)), ...[...this.stopping].map((r) => claim(r, true))];
    for (const [runner, threads] of shareThreads(claims, this.options.threadBudget)) {
      if (runner.threadsNow === threads) continue;
      runner.threadsNow = threads;
      runner.handle.setThreads(threads);
    }
  }

  private failWaiters(key: string, error: unknown): void {
    for (const w of this.pending.filter((p) => p.key === key)) {
      this.pending.splice(this.pending.indexOf(w), 1);
      w.detach();
      w.reject(error);
    }
  }
}
