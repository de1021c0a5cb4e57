/**
 * Composition root: config -> logger -> store, registry, catalog, scheduler -> app -> listen.
 * The only module that wires services together; everything else receives what it needs.
 */
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { registryCredentialsFromEnv, type Config } from './config.js';
import { bundledEngineInfo, createWorkerHandleFactory, readNativeBuildChoice, Scheduler } from './engine/index.js';
import { createApp } from './http/app.js';
import { corsMiddleware } from './http/cors.js';
import { createEnginesRouter } from './http/engines-router.js';
import type { InferenceDeps } from './http/inference-deps.js';
import { createInferenceRouter } from './http/inference-router.js';
import { closeServer, listenOnPort, listenOnSocket } from './http/listen.js';
import { createMetrics, createMetricsRouter } from './http/metrics.js';
import { createModelsRouter } from './http/models-router.js';
import { createOllamaRouter } from './http/ollama-router.js';
import { createLogger, type Logger } from './log.js';
import { Catalog } from './models/index.js';
import { ollamaCatalogPort } from './http/ollama-catalog-port.js';
import { RegistryClient } from './registry/index.js';
import { openStore } from './store/index.js';

export interface RunningServer {
  logger: Logger;
  socketPath: string;
  /** The TCP port actually bound, when one was asked for. */
  port: number | undefined;
  /** Stops listening, drains in-flight requests, unloads models and releases the store. */
  close(): Promise<void>;
}

/** Uploads are staged inside the store directory so that packaging them is a same-filesystem copy. */
const UPLOAD_DIR_NAME = 'uploads.tmp';

export async function startServer(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const logger = createLogger(config.logLevel);
  const disposers: Array<() => Promise<void>> = [];
  try {
    const store = await openStore(config.modelsPath, { logger });
    disposers.push(() => store.close());

    const registry = new RegistryClient({
      logger,
      insecureRegistries: config.insecureRegistries,
      ...registryCredentialsFromEnv(env),
      dockerConfigPath: path.join(os.homedir(), '.docker', 'config.json'),
      concurrency: config.pullConcurrency,
      chunkBytes: config.pullChunkBytes,
    });
    disposers.push(async () => registry.dispose());

    const metrics = createMetrics();
    const catalog = new Catalog({
      store,
      registry,
      logger,
      defaultRegistry: config.defaultRegistry,
      onPullBytes: (bytes) => metrics.pullBytes.inc(bytes),
    });

    const scheduler = new Scheduler({
      createHandle: createWorkerHandleFactory({ gpu: config.gpu, isolation: config.isolation, logger }),
      maxLoadedModels: config.maxLoadedModels,
      memoryBudgetBytes: config.memoryBudgetBytes,
      defaultKeepAlive: config.keepAlive,
      defaultParallel: config.parallel,
      defaultContextSize: config.contextSize,
      maxQueue: config.maxQueue,
      threadBudget: config.threads,
      logger,
      engineInfo: bundledEngineInfo(),
    });
    metrics.setCollectors({ loadedModels: () => scheduler.ps().length, queueDepth: () => scheduler.queueDepth() });

    const inference: InferenceDeps = {
      resolveModel: (name, mode) => catalog.resolveForInference(name, mode),
      scheduler,
      listModels: () => catalog.list(),
      settings: catalog.settings,
      metrics,
      logger,
    };

    const app = createApp({
      logger,
      before: [corsMiddleware(config.origins)],
      routers: [
        createModelsRouter({
          catalog,
          logger,
          maxUploadBytes: config.maxUploadBytes,
          uploadDir: path.join(config.modelsPath, UPLOAD_DIR_NAME),
          // A deleted model must not stay resident; the scheduler unloads only idle runners.
          unloadModel: async (id) => {
            await scheduler.unload({ models: [id] });
          },
          unloadAll: async () => {
            await scheduler.unload({ all: true });
          },
          // A runner still loading counts as in use: requests are waiting for it.
          isModelInUse: (id) => scheduler.ps().some((r) => r.id === id && (r.inUse > 0 || r.loading)),
        }),
        createEnginesRouter(inference),
        createInferenceRouter(inference),
        createOllamaRouter({ ...inference, catalog: ollamaCatalogPort(catalog) }),
        createMetricsRouter(metrics),
      ],
    });

    const servers: http.Server[] = [http.createServer(app)];
    await listenOnSocket(servers[0]!, config.socketPath);
    let port: number | undefined;
    if (config.port !== undefined) {
      const tcpServer = http.createServer(app);
      servers.push(tcpServer);
      port = await listenOnPort(tcpServer, config.port, config.host);
    }
    // Shutdown order matters: stop accepting, then stop the Workers (which aborts generations in
    // flight, so streaming responses end), then wait for the connections to finish.
    disposers.push(async () => {
      const closed = servers.map(closeServer);
      await scheduler.close();
      await Promise.all(closed);
    });
    logger.info('listening', { socket: config.socketPath, port, host: port === undefined ? undefined : config.host, models: config.modelsPath });
    // Once per server, so that the Workers need not repeat it; each model's 'model loaded' line says what actually loaded.
    const binaries = readNativeBuildChoice();
    logger.info('llama.cpp binaries', binaries.use === 'local' ? { use: 'local build', cmakeOptions: binaries.cmakeOptions } : { use: 'prebuilt', reason: binaries.reason });

    let closing: Promise<void> | undefined;
    return {
      logger,
      socketPath: config.socketPath,
      port,
      close() {
        closing ??= disposeAll(disposers, logger);
        return closing;
      },
    };
  } catch (err) {
    await disposeAll(disposers, logger);
    throw err;
  }
}

/** Runs disposers last-first (listeners, then the scheduler's Workers, then the store lock), logging failures. */
async function disposeAll(disposers: Array<() => Promise<void>>, logger: Logger): Promise<void> {
  for (const dispose of disposers.reverse()) {
    try {
      await dispose();
    } catch (err) {
      logger.error('shutdown step failed', { error: String(err) });
    }
  }
}
