/**
 * The engine-serving core, the same in a Worker and in an isolated child process: it loads one
 * model from a WorkerInit, answers requests from the main side, and stops only cooperatively:
 * abort every request, let native calls return, dispose context, model and Llama, then close
 * the port so the thread or process ends by itself. Ending a thread while a native call is in
 * flight aborts the whole process, so nothing here exits abruptly.
 */
import { toAppError } from '../../errors.js';
import type { MainToWorker, WorkerInit, WorkerToMain } from '../protocol.js';
import { embed } from './embeddings.js';
import { runTokens } from './tokens.js';
import { rank } from './ranking.js';
import { createGenerationEnv, generate, type GenerationEnv } from './generate.js';
import { disposeModel, loadModel, poolThreadsOf, type LoadedModel, type LogSink, type StartedEngine } from './load.js';
import { startPrefixScan } from './prefix-scan.js';
import { SavedPrefixes } from './saved-prefixes.js';
import { TEMPLATE_OVERRUN } from './template-overrun.js';
import { maybeHoldLoad } from './test-faults.js';

/** The channel to the main side: a Worker's parentPort or a child process's IPC channel. */
export interface EnginePort {
  post(message: WorkerToMain): void;
  onMessage(listener: (message: MainToWorker) => void): void;
  /** Called once everything is released; ends the channel so the thread or process can end. */
  close(): void;
}

export interface ServingEngine {
  /** The cooperative stop, also reached by a 'shutdown' message; resolves once the port is closed. */
  shutdown(): Promise<void>;
}

/**
 * @param engine An engine started before the model was known (a Worker's); loadModel starts one
 *   when absent.
 * @param engineStartedAhead Whether that engine was up before the model was named, for the load's info.
 */
export function serveEngine(init: WorkerInit, port: EnginePort, engine?: Promise<StartedEngine>, engineStartedAhead = false): ServingEngine {
  const post = (message: WorkerToMain) => port.post(message);
  const active = new Map<number, { controller: AbortController; done: Promise<unknown> }>();
  const loadController = new AbortController();
  let loaded: LoadedModel | undefined;
  let env: GenerationEnv | undefined;
  let stopping: Promise<void> | undefined;
  let retiring = false;
  /** The model's share of the cores, as last told; applied once the model is loaded if told earlier. */
  let threads = init.threads;
  /** Set by an uncaught failure: the engine's state is then unknown, and nothing of it is saved. */
  let failed = false;

  // Uncaught errors must not end the thread while a native call is in flight (that aborts the
  // process): report, then shut down cooperatively.
  const onFatal = (err: unknown) => {
    failed = true;
    post({ type: 'fatal', error: toAppError(err).toJSON() });
    void shutdown();
  };
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);

  port.onMessage((message) => {
    if (message.type === 'shutdown') return void shutdown();
    if (message.type === 'cancel') return active.get(message.id)?.controller.abort();
    if (message.type === 'threads') {
      threads = Math.max(1, Math.min(message.threads, poolThreadsOf(init)));
      if (loaded) loaded.llama.maxThreads = threads;
      return;
    }
    if (stopping || retiring || !env) {
      const error = { code: 'unavailable' as const, message: 'the model is shutting down' };
      return post({ type: 'error', id: message.id, error });
    }
    const controller = new AbortController();
    const current = env;
    const work = (async () => {
      if (message.type === 'generate') {
        await generate(current, message.request, controller.signal, (event) => post({ type: 'event', id: message.id, event }));
      } else if (message.type === 'embed') {
        post({ type: 'result', id: message.id, value: await embed(current.loaded, message.request, controller.signal) });
      } else if (message.type === 'tokens') {
        post({ type: 'result', id: message.id, value: runTokens(current.loaded, message.request) });
      } else if (message.type === 'rank') {
        post({ type: 'result', id: message.id, value: await rank(current.loaded, message.request, controller.signal) });
      } else {
        post({ type: 'result', id: message.id, value: current.loaded.model.tokenize(message.text, false).map(Number) });
      }
    })().catch((err: unknown) => {
      const error = toAppError(err);
      post({ type: 'error', id: message.id, error: error.toJSON() });
      const overrun = error.data?.[TEMPLATE_OVERRUN];
      if (overrun !== undefined) retire(`its chat template overran the ${String(overrun)} budget`);
    });
    active.set(message.id, { controller, done: work });
    void work.finally(() => active.delete(message.id));
  });

  async function start(): Promise<void> {
    try {
      const started = await engine;
      // A spare was started for the thread budget of its day; this model's share is in init.
      if (started) started.llama.maxThreads = init.threads;
      const log: LogSink = (level, message) => post({ type: 'log', level, message });
      // Saved prompt prefixes are listed and checksummed while the model loads.
      const scanned = init.mode === 'completion' ? startPrefixScan(init.promptCache, log) : undefined;
      loaded = await loadModel(init, log, loadController.signal, started);
      loaded.llama.maxThreads = threads;
      maybeHoldLoad(loaded.model.fileInfo.metadata?.general?.name);
      env = createGenerationEnv(loaded, SavedPrefixes.create(init.promptCache, scanned, loaded, log));
      if (stopping) return;
      post({ type: 'ready', info: { ...loaded.info, engineStartedAhead } });
    } catch (err) {
      post({ type: 'load-error', error: toAppError(err).toJSON() });
      void shutdown();
    }
  }

  // What an overrunning render built may still be referenced from the interpreter's closures, and a
  // template that overran once will overrun again on similar input: a fresh engine is cheaper than
  // a heap of unknown size. In-flight requests finish; the main side shuts this engine down after.
  function retire(reason: string): void {
    if (retiring || stopping) return;
    retiring = true;
    post({ type: 'retire', reason });
  }

  function shutdown(): Promise<void> {
    stopping ??= (async () => {
      loadController.abort();
      for (const { controller } of active.values()) controller.abort();
      await Promise.allSettled([...active.values()].map((a) => a.done));
      await started;
      // Before the context goes: the KV state of its most valuable sequences outlives the unload.
      if (loaded && env?.saved && !failed) await env.saved.saveAll(loaded.sequences);
      if (loaded) await disposeModel(loaded);
      process.off('uncaughtException', onFatal);
      process.off('unhandledRejection', onFatal);
      port.close();
    })();
    return stopping;
  }

  const started = start();
  return { shutdown };
}
