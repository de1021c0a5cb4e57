/**
 * InferenceDeps built from stand-ins: a catalog of one chat model and one embedding model, a
 * scheduler that records leases, and sessions that replay scripted engine events. The real
 * engine and catalog have their own tests; these exercise only the HTTP translation.
 */
import type { EmbedRequest, GenerateEvent, GenerateRequest, LoadSpec, ModelMode, ModelSession, RuntimeSettings } from '../../src/engine/types.js';
import { AppError } from '../../src/errors.js';
import type { InferenceDeps, InferenceScheduler, Lease, PsEntry } from '../../src/http/common/inference-deps.js';
import { type Model, type ModelCatalog, ModelService } from '../../src/models/index.js';
import { createMetrics } from '../../src/http/common/metrics.js';
import { createSilentLogger } from '../../src/log.js';
import type { DockerModel } from '../../src/openai/models.js';

export const CHAT_ID = `sha256:${'a'.repeat(64)}`;
export const EMBED_ID = `sha256:${'b'.repeat(64)}`;

export const MODELS: DockerModel[] = [
  {
    id: CHAT_ID,
    tags: ['docker.io/ai/smollm2:latest'],
    created: 1745900000,
    config: { format: 'gguf', quantization: 'Q4_K_M', parameters: '361.82M', architecture: 'llama', size: '256.35MiB', context_size: 8192 },
  },
  { id: EMBED_ID, tags: ['docker.io/ai/mxbai-embed:latest'], created: 1745900001, config: { format: 'gguf', architecture: 'bert' } },
];

const NAMES: Record<string, string> = {
  smollm2: CHAT_ID,
  'ai/smollm2': CHAT_ID,
  'docker.io/ai/smollm2:latest': CHAT_ID,
  [CHAT_ID]: CHAT_ID,
  'ai/mxbai-embed': EMBED_ID,
  [EMBED_ID]: EMBED_ID,
};

export const DONE: Extract<GenerateEvent, { type: 'done' }> = {
  type: 'done',
  finishReason: 'stop',
  usage: { promptTokens: 12, completionTokens: 3, cachedTokens: 4 },
  timings: { timeToFirstTokenMs: 120, promptMs: 100, generationMs: 300 },
};

export interface SessionScript {
  /** Events yielded in order. Defaults to two text events and DONE. */
  events?: GenerateEvent[];
  /** Thrown when the first event is requested, before anything is yielded. Defaults to none. */
  error?: Error;
  /** After the events, wait until the signal aborts and then throw the abort. Defaults to false. */
  hang?: boolean;
}

export interface ScriptedSession extends ModelSession {
  requests: GenerateRequest[];
  embedRequests: EmbedRequest[];
  signals: AbortSignal[];
  /** Resolves with the signal once a generation has yielded all its scripted events and hangs. */
  hanging: Promise<AbortSignal>;
}

/** A session that replays `script` for every generate call. */
export function scriptedSession(script: SessionScript = {}): ScriptedSession {
  const events = script.events ?? [{ type: 'text', text: 'Hello' }, { type: 'text', text: ' world' }, DONE];
  let markHanging!: (signal: AbortSignal) => void;
  const session: ScriptedSession = {
    requests: [],
    embedRequests: [],
    signals: [],
    hanging: new Promise((resolve) => (markHanging = resolve)),
    async *generate(request, signal) {
      session.requests.push(request);
      if (signal) session.signals.push(signal);
      if (script.error) throw script.error;
      for (const event of events) yield event;
      if (script.hang && signal) {
        markHanging(signal);
        await new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          else signal.addEventListener('abort', () => resolve(), { once: true });
        });
        throw new AppError('aborted', 'generation aborted');
      }
    },
    async embed(request, signal) {
      session.embedRequests.push(request);
      if (signal) session.signals.push(signal);
      return { vectors: request.inputs.map((_, i) => [i, 0.5, -1]), promptTokens: 5 * request.inputs.length };
    },
    async tokenize(text) {
      return [...text].map((c) => c.charCodeAt(0));
    },
    async rank() {
      throw new AppError('unsupported', 'the scripted engine does not rank');
    },
    async tokens() {
      throw new AppError('unsupported', 'the scripted engine has no tokenizer routes');
    },
  };
  return session;
}

export interface ScriptedDeps {
  deps: InferenceDeps & { models: ModelService };
  session: ScriptedSession;
  acquired: Array<{ spec: LoadSpec; keepAlive?: string | number }>;
  /** How many leases were released. */
  released: () => number;
  /** Resolves at the next lease release. */
  nextRelease(): Promise<void>;
  storedSettings: Map<string, RuntimeSettings>;
  reconfigured: string[];
  unloadRequests: Array<{ all?: boolean; models?: string[] }>;
}

export interface ScriptedDepsOptions {
  script?: SessionScript;
  /** Thrown by scheduler.acquire. Defaults to none. */
  acquireError?: Error;
  /** Thrown by scheduler.reconfigure. Defaults to none. */
  reconfigureError?: Error;
}

export const PS_ENTRY: PsEntry = {
  id: CHAT_ID,
  name: 'ai/smollm2',
  mode: 'completion',
  contextSize: 4096,
  parallel: 2,
  threads: 4,
  memoryBytes: 123456,
  inUse: 0,
  loading: false,
  keepAlive: '5m',
  expiresAt: '2026-01-01T00:05:00.000Z',
  lastUsed: '2026-01-01T00:00:00.000Z',
};

/** The catalog under the model service, over MODELS and the scripted settings; deleting is not scripted. */
function scriptedCatalog(settings: ModelCatalog['settings']): ModelCatalog {
  const find = (name: string) => {
    const model = MODELS.find((m) => m.id === NAMES[name]);
    if (!model) throw new AppError('not_found', `model "${name}" not found`);
    return model;
  };
  return {
    async resolve(name) {
      const model = find(name);
      return { id: model.id, entry: { id: model.id, tags: model.tags, files: [] } };
    },
    get: async (name) => find(name) as Model,
    list: async () => MODELS as Model[],
    async delete() {
      throw new AppError('unsupported', 'the scripted catalog does not delete');
    },
    async purge() {
      throw new AppError('unsupported', 'the scripted catalog does not purge');
    },
    settings,
  };
}

export function scriptedDeps(options: ScriptedDepsOptions = {}): ScriptedDeps {
  const session = scriptedSession(options.script);
  const storedSettings = new Map<string, RuntimeSettings>();
  let releasedCount = 0;
  let releaseWaiters: Array<() => void> = [];
  const result: ScriptedDeps = {
    session,
    acquired: [],
    released: () => releasedCount,
    nextRelease: () => new Promise((resolve) => releaseWaiters.push(resolve)),
    storedSettings,
    reconfigured: [],
    unloadRequests: [],
    deps: {
      async resolveModel(name: string, mode: ModelMode): Promise<LoadSpec> {
        const id = NAMES[name];
        if (!id) throw new AppError('not_found', `model "${name}" not found`);
        return { id, name, modelPath: `/models/${id}.gguf`, mode, settings: storedSettings.get(id) ?? {} };
      },
      scheduler: {
        async acquire(spec, acquireOptions): Promise<Lease> {
          if (options.acquireError) throw options.acquireError;
          result.acquired.push({ spec, keepAlive: acquireOptions.keepAlive });
          let released = false;
          return {
            session,
            settings: { contextSize: 4096, parallel: 2 },
            release() {
              if (released) throw new Error('lease released twice');
              released = true;
              releasedCount++;
              const waiters = releaseWaiters;
              releaseWaiters = [];
              for (const wake of waiters) wake();
            },
          };
        },
        ps: () => [PS_ENTRY],
        async unload(request) {
          result.unloadRequests.push(request);
          return request.all ? 2 : (request.models?.length ?? 0);
        },
        async reconfigure(id) {
          if (options.reconfigureError) throw options.reconfigureError;
          result.reconfigured.push(id);
        },
        status: () => ({ backend: 'cpu', version: '3.21.1' }),
        queueDepth: () => 0,
      },
      listModels: async () => MODELS,
      settings: {
        get: async (id) => storedSettings.get(id) ?? {},
        async set(id, patch) {
          const merged = { ...storedSettings.get(id), ...patch };
          storedSettings.set(id, merged);
          return merged;
        },
        list: async () => Object.fromEntries(storedSettings),
      },
      metrics: createMetrics(),
      logger: createSilentLogger(),
      models: undefined as unknown as ModelService,
    },
  };
  const scheduler: InferenceScheduler = result.deps.scheduler;
  const engine = {
    ps: () => scheduler.ps(),
    unload: (selector: { all?: boolean; models?: string[] }) => scheduler.unload(selector),
    reconfigure: (id: string) => scheduler.reconfigure(id),
    // Deleting is not scripted, so nothing is retired.
    retire: async () => 0,
  };
  result.deps.models = new ModelService({ catalog: scriptedCatalog(result.deps.settings), engine });
  return result;
}
