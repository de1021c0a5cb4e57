/**
 * The main-thread proxy of one model engine, in a Worker or in a child process (the transport,
 * see transport.ts). It implements ModelSession by posting requests with ids and routing the
 * engine's replies back; an AbortSignal posts a cancel. When the engine fails or exits
 * unexpectedly, only its in-flight requests fail and the handle reports the failure so the
 * scheduler drops it; when the engine asks to retire, its in-flight requests finish and the
 * scheduler replaces it. A Worker is never terminated (see worker/serve-engine.ts); a child process
 * that does not stop in time is killed.
 */
import { AppError } from '../errors.js';
import { EventQueue } from './event-queue.js';
import type { ModelHandle } from './handle-types.js';
import { DEFAULT_STOP_TIMEOUT_MS, type LoadedHandleInfo, type WorkerModelHandleOptions } from './model-handle-options.js';
import { startProcessTransport } from './process-transport.js';
import type { LoadedInfo, MainToWorker, WorkerInit, WorkerToMain } from './protocol.js';
import type { EngineExit, EngineTransport, TransportOptions } from './transport.js';
import type { EmbedRequest, EmbedResult, GenerateEvent, GenerateRequest, RankRequest, RankResult, TokensRequest, TokensResult } from './types.js';
import { startWorkerTransport } from './worker-transport.js';

/** The messages that carry a request and get an answer under their id. */
type RequestMessage = Exclude<MainToWorker, { type: 'cancel' | 'shutdown' | 'threads' }>;

type Pending =
  | { kind: 'stream'; queue: EventQueue<GenerateEvent> }
  /** A stream whose consumer left: its events are dropped until the engine says how it ended. */
  | { kind: 'draining' }
  | { kind: 'call'; resolve: (value: unknown) => void; reject: (error: unknown) => void };

export class WorkerModelHandle implements ModelHandle {
  private transport: EngineTransport | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly failureListeners: Array<(error: AppError) => void> = [];
  private readonly retireListeners: Array<(reason: string) => void> = [];
  private nextId = 1;
  private loadedInfo: LoadedHandleInfo | undefined;
  private state: 'new' | 'loading' | 'ready' | 'retiring' | 'failed' | 'stopping' | 'stopped' = 'new';
  private loadWaiter: { resolve: (info: LoadedInfo) => void; reject: (e: unknown) => void } | undefined;
  /** Set by dispose(): a load still under way was called off. */
  private disposeRequested = false;
  /** The model's share of the cores now (settings.threads until the scheduler says otherwise). */
  private threads: number;

  constructor(private readonly options: WorkerModelHandleOptions) {
    this.threads = options.settings.threads;
  }

  get info(): LoadedHandleInfo | undefined {
    return this.loadedInfo;
  }

  /** The engine's process id under process isolation (for operators and tests); undefined for a Worker. */
  get pid(): number | undefined {
    return this.transport?.pid;
  }

  setThreads(threads: number): void {
    if (threads === this.threads) return;
    this.threads = threads;
    // Before load() the Worker is told in its init; after it, from its next batch on.
    if (this.transport) this.post({ type: 'threads', threads });
  }

  onFailure(listener: (error: AppError) => void): void {
    this.failureListeners.push(listener);
  }

  onRetire(listener: (reason: string) => void): void {
    this.retireListeners.push(listener);
  }

  async load(signal?: AbortSignal): Promise<LoadedHandleInfo> {
    if (this.state !== 'new') throw new AppError('internal', 'a model handle loads only once');
    this.state = 'loading';
    const { spec, settings } = this.options;
    const init: WorkerInit = {
      modelPath: spec.modelPath,
      mode: spec.mode,
      contextSize: settings.contextSize,
      parallel: settings.parallel,
      threads: this.threads,
      maxThreads: settings.maxThreads,
      batchSize: spec.settings.batchSize,
      flashAttention: spec.settings.flashAttention,
      gpu: this.options.gpu ?? 'auto',
      unifiedKv: this.options.unifiedKv,
      memo: this.options.loadMemos?.get(spec.id) ?? spec.firstLoadMemo,
      ...(this.options.promptCache && spec.mode === 'completion' ? { promptCache: { ...this.options.promptCache, modelId: spec.id } } : {}),
    };
    const transportOptions: TransportOptions = {
      init,
      name: spec.name,
      logger: this.options.logger,
      events: { message: (m) => this.onMessage(m), failure: (e) => this.fail(e), exit: (e) => this.onExit(e) },
    };
    this.transport =
      this.options.isolation === 'process'
        ? startProcessTransport({ ...transportOptions, hangTimeoutMs: this.options.hangTimeoutMs })
        : startWorkerTransport({ ...transportOptions, workers: this.options.workers });
    const onAbort = () => void this.dispose();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const cancelled = (cause?: unknown) => new AppError('aborted', `the load of model ${spec.name} was cancelled`, cause === undefined ? undefined : { cause });
      const loaded = await new Promise<LoadedInfo>((resolve, reject) => (this.loadWaiter = { resolve, reject })).catch((err: unknown) => {
        // However the engine reported its end (a load error for the abort, an exit), a load that
        // was called off says so: nothing went wrong with the model.
        if (this.disposeRequested) throw cancelled(err);
        throw err;
      });
      // The engine may finish a load it was told to stop (a native load cannot be interrupted, and
      // its 'ready' can cross the shutdown): the load is still called off, and the handle stays
      // stopping, so that the engine's exit that follows is expected.
      if (this.disposeRequested) throw cancelled();
      const info = { ...loaded, isolation: this.transport.isolation };
      if (loaded.memo) this.options.loadMemos?.set(spec.id, loaded.memo);
      this.loadedInfo = info;
      this.state = 'ready';
      this.options.logger.info('model loaded', { model: spec.name, mode: spec.mode, ...info, ...(info.isolation === 'process' ? { pid: this.pid } : {}) });
      return info;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async *generate(request: GenerateRequest, signal?: AbortSignal): AsyncIterable<GenerateEvent> {
    const queue = new EventQueue<GenerateEvent>();
    const id = this.send({ type: 'generate', id: 0, request }, { kind: 'stream', queue });
    const cancel = () => this.post({ type: 'cancel', id });
    if (signal?.aborted) cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    let finished = false;
    try {
      for await (const event of queue) {
        yield event;
        if (event.type === 'done') {
          finished = true;
          return;
        }
      }
      finished = true;
    } finally {
      signal?.removeEventListener('abort', cancel);
      // The consumer stopped early: stop the engine's loop too, and hear how it ended.
      if (!finished) {
        cancel();
        if (this.pending.has(id)) this.pending.set(id, { kind: 'draining' });
      } else this.pending.delete(id);
    }
  }

  embed(request: EmbedRequest, signal?: AbortSignal): Promise<EmbedResult> {
    return this.call<EmbedResult>({ type: 'embed', id: 0, request }, signal);
  }

  rank(request: RankRequest, signal?: AbortSignal): Promise<RankResult> {
    return this.call<RankResult>({ type: 'rank', id: 0, request }, signal);
  }

  tokenize(text: string, signal?: AbortSignal): Promise<number[]> {
    return this.call<number[]>({ type: 'tokenize', id: 0, text }, signal);
  }

  tokens(request: TokensRequest, signal?: AbortSignal): Promise<TokensResult> {
    return this.call<TokensResult>({ type: 'tokens', id: 0, request }, signal);
  }

  async dispose(): Promise<void> {
    this.disposeRequested = true;
    if (this.state === 'stopped') return;
    if (this.state !== 'stopping') {
      if (this.state === 'new') {
        this.state = 'stopped';
        return;
      }
      // A model that served and is going away is the likeliest to be asked for again.
      if (this.loadedInfo) this.options.workers?.expect(this.options.spec.modelPath);
      this.state = 'stopping';
      this.post({ type: 'shutdown' });
    }
    const timeoutMs = this.options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
    const exited = this.transport?.exited ?? Promise.resolve();
    const late = await Promise.race([exited.then(() => false), timedOut]);
    clearTimeout(timer);
    if (!late) return;
    this.transport?.abandon(timeoutMs);
    // Its requests would otherwise wait on an engine that may never answer again.
    const fate = this.transport?.isolation === 'process' ? ' and was killed' : '; its requests were abandoned';
    const error = new AppError('unavailable', `${this.engineName()} did not stop within ${timeoutMs} ms${fate}`);
    this.loadWaiter?.reject(error);
    this.loadWaiter = undefined;
    this.failPending(error);
    // A killed process ends for certain (and soon): dispose resolves once it has. A Worker may never end.
    if (this.transport?.isolation === 'process') await this.transport.exited;
  }

  private call<T>(message: RequestMessage, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(new AppError('aborted', 'the request was cancelled'));
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.post({ type: 'cancel', id });
        this.pending.delete(id);
        reject(new AppError('aborted', 'the request was cancelled'));
      };
      const id = this.send(message, {
        kind: 'call',
        resolve: (v) => (signal?.removeEventListener('abort', onAbort), resolve(v as T)),
        reject: (e) => (signal?.removeEventListener('abort', onAbort), reject(e)),
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Registers the request and posts it; a handle that cannot serve fails the request at once. */
  private send(message: RequestMessage, pending: Exclude<Pending, { kind: 'draining' }>): number {
    const id = this.nextId++;
    if (this.state !== 'ready') {
      const error = new AppError('unavailable', `model ${this.options.spec.name} is not loaded (${this.state})`);
      if (pending.kind === 'stream') pending.queue.fail(error);
      else pending.reject(error);
      return id;
    }
    this.pending.set(id, pending);
    this.post({ ...message, id });
    return id;
  }

  private post(message: MainToWorker): void {
    if (this.state === 'stopped' || this.state === 'failed') return;
    this.transport?.post(message);
  }

  private onMessage(message: WorkerToMain): void {
    switch (message.type) {
      case 'engine-ready':
        return;
      case 'ready':
        this.loadWaiter?.resolve(message.info);
        this.loadWaiter = undefined;
        return;
      case 'load-error':
        this.state = 'stopping';
        this.loadWaiter?.reject(AppError.fromJSON(message.error));
        this.loadWaiter = undefined;
        return;
      case 'event': {
        const p = this.pending.get(message.id);
        if (p === undefined || p.kind === 'call') return;
        if (p.kind === 'stream') p.queue.push(message.event);
        if (message.event.type === 'done') {
          if (p.kind === 'stream') p.queue.end();
          this.pending.delete(message.id);
          this.options.onGenerationEnd?.(this.options.spec, message.event.finishReason);
        }
        return;
      }
      case 'result':
      case 'error': {
        const p = this.pending.get(message.id);
        if (!p) return;
        this.pending.delete(message.id);
        if (p.kind === 'draining') return;
        if (message.type === 'error') {
          const error = AppError.fromJSON(message.error);
          return p.kind === 'stream' ? p.queue.fail(error) : p.reject(error);
        }
        return p.kind === 'stream' ? p.queue.end() : p.resolve(message.value);
      }
      case 'retire':
        if (this.state !== 'ready') return;
        this.state = 'retiring';
        for (const listener of this.retireListeners) listener(message.reason);
        return;
      case 'fatal':
        this.fail(new AppError('internal', `${this.engineName()} failed: ${message.error.message}`));
        return;
      case 'log':
        this.options.logger.log(message.level, message.message, { model: this.options.spec.name, source: 'llama.cpp' });
        return;
    }
  }

  private onExit({ code, signal }: EngineExit): void {
    const expected = this.state === 'stopping' || this.state === 'failed';
    // A process killed by a signal (an abort, a segfault, out of memory, the kernel) says which.
    const how = signal ? `was killed by ${signal}` : `exited unexpectedly (code ${code})`;
    if (!expected) this.fail(new AppError('internal', `${this.engineName()} ${how}`));
    const whileLoading = signal ? `was killed by ${signal} while loading` : `exited while loading (code ${code})`;
    this.loadWaiter?.reject(new AppError('internal', `${this.engineName()} ${whileLoading}`));
    this.loadWaiter = undefined;
    this.failPending(new AppError('internal', `${this.engineName()} stopped`));
    this.state = 'stopped';
  }

  /** "the worker of model X" or "the engine process of model X", for messages. */
  private engineName(): string {
    return `the ${this.transport?.noun ?? 'worker'} of model ${this.options.spec.name}`;
  }

  /** Fails in-flight requests, tells listeners, and asks the engine to wind down on its own. */
  private fail(error: AppError): void {
    if (this.state === 'failed' || this.state === 'stopped') return;
    const wasLoading = this.state === 'loading';
    const what = this.transport?.isolation === 'process' ? 'model engine process failed' : 'model worker failed';
    this.options.logger.error(what, { model: this.options.spec.name, error: error.message });
    this.post({ type: 'shutdown' });
    this.state = 'failed';
    this.failPending(error);
    if (wasLoading) {
      this.loadWaiter?.reject(error);
      this.loadWaiter = undefined;
      return;
    }
    for (const listener of this.failureListeners) listener(error);
  }

  private failPending(error: AppError): void {
    for (const p of this.pending.values()) {
      if (p.kind === 'stream') p.queue.fail(error);
      else if (p.kind === 'call') p.reject(error);
    }
    this.pending.clear();
  }
}
