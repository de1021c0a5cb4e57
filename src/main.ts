/**
 * Composition root: config -> logger -> store, registry, catalog, scheduler -> app -> listen.
 * The only module that wires services together; everything else receives what it needs.
 */
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { readApiKey, registryCredentialsFromEnv, type Config } from './config.js';
import { bundledEngineInfo, createWorkerHandleFactory, unifiedKvLibraryPresent, engineFingerprint, readNativeBuildChoice, runAdmissionCheck, Scheduler, stopAdmissionChildren } from './engine/index.js';
import { createApp } from './http/common/app.js';
import { corsMiddleware } from './http/common/cors.js';
import { createEnginesRouter } from './http/docker/engines-router.js';
import { createHttpServer } from './http/common/http-server.js';
import type { InferenceDeps } from './http/common/inference-deps.js';
import { createInferenceRouter } from './http/openai/inference-router.js';
import { closeServer, listenOnPort, listenOnSocket } from './http/common/listen.js';
import { guardSocketPeers, peerPolicy, resolveSocketGroup } from './http/common/socket-peers.js';
import { createMetrics, createMetricsRouter } from './http/common/metrics.js';
import { createModelsRouter } from './http/docker/models-router.js';
import { createOllamaRouter } from './http/ollama/router.js';
import { RequestHistory } from './http/common/request-history.js';
import { isLoopbackHost } from './http/common/host-policy.js';
import { apiKeyCheck, checkTcpBind, hostCheck } from './http/common/tcp-access.js';
import { createResponsesRouter } from './http/openai/responses-router.js';
import { ResponseStore } from './responses/store.js';
import { createLlamaUtilitiesRouter } from './http/llama/utilities-router.js';
import { createMessagesRouter } from './http/anthropic/messages-router.js';
import { createRerankRouter } from './http/rerank/rerank-router.js';
import { createLogger, type Logger } from './log.js';
import { assertPeerCredentialsAddon, peerCredentialsRequired } from './native.js';
import { Catalog, ModelAdmission, ModelService } from './models/index.js';
import { ollamaCatalogPort } from './http/ollama/catalog-port.js';
import { RegistryClient } from './registry/index.js';
import { openStore, PROMPT_CACHE_DIR_NAME, UPLOADS_DIR_NAME } from './store/index.js';

export interface RunningServer {
  logger: Logger;
  socketPath: string;
  /** The TCP port actually bound, when one was asked for. */
  port: number | undefined;
  /** Stops listening, drains in-flight requests, unloads models and releases the store. */
  close(): Promise<void>;
}

export async function startServer(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const logger = createLogger(config.logLevel);
  // Before anything opens: a TCP listener that would be open to the network without a key is refused outright.
  const apiKey = config.port === undefined ? undefined : await readApiKey(config, env);
  if (config.port !== undefined) checkTcpBind({ host: config.host, apiKey, insecureBind: config.insecureBind });
  const disposers: Array<() => Promise<void>> = [];
  try {
    // Before anything is opened: a server that cannot check who connects must not start at all.
    const checkPeers = peerCredentialsRequired();
    if (checkPeers) assertPeerCredentialsAddon();
    else logger.warn('peer credentials are not checked on this platform: only the socket file mode guards it', { platform: process.platform });
    const socketGid = config.socketGroup === undefined ? undefined : resolveSocketGroup(config.socketGroup);

    const store = await openStore(config.modelsPath, { logger });
    disposers.push(() => store.close());

    const registry = new RegistryClient({
      logger,
      insecureRegistries: config.insecureRegistries,
      ...registryCredentialsFromEnv(env),
      credentialsRegistry: config.credentialsRegistry,
      stallTimeoutMs: config.registryStallTimeoutMs,
      dockerConfigPath: path.join(os.homedir(), '.docker', 'config.json'),
      concurrency: config.pullConcurrency,
      chunkBytes: config.pullChunkBytes,
      proxy: { httpProxy: config.httpProxy, httpsProxy: config.httpsProxy, noProxy: config.noProxy },
    });
    disposers.push(async () => registry.dispose());

    const metrics = createMetrics();
    const gpu = config.gpu === 'cpu' ? false : config.gpu;
    const admission = new ModelAdmission({
      store,
      engine: engineFingerprint(gpu),
      logger,
      run: ({ modelPath, mode, signal }) => runAdmissionCheck({ modelPath, mode, gpu, timeoutMs: config.admissionTimeoutSeconds * 1000, signal }),
    });
    const catalog = new Catalog({
      admission,
      store,
      registry,
      logger,
      defaultRegistry: config.defaultRegistry,
      onPullBytes: (bytes) => metrics.pullBytes.inc(bytes),
    });

    // The spare starts now, while the server opens its listeners: even the first load finds it.
    const kvUnified = config.kvUnified && unifiedKvLibraryPresent();
    if (config.kvUnified && !kvUnified) logger.warn("each sequence keeps its own KV cache: the unified-KV library is not built (make build)");
    const engines = createWorkerHandleFactory({
      gpu: config.gpu,
      isolation: config.isolation,
      logger,
      spare: config.spareEngine ? { threads: config.threads } : undefined,
      unifiedKv: kvUnified,
      promptCache: { dir: path.join(config.modelsPath, PROMPT_CACHE_DIR_NAME), maxBytes: config.promptCacheBytes },
      onGenerationEnd: (spec, reason) => metrics.generations.inc({ model: spec.id, finish_reason: reason }),
    });
    const scheduler = new Scheduler({
      createHandle: engines.createHandle,
      maxLoadedModels: config.maxLoadedModels,
      memoryBudgetBytes: config.memoryBudgetBytes,
      defaultKeepAlive: config.keepAlive,
      defaultParallel: config.parallel,
      defaultContextSize: config.contextSize,
      kvUnified,
      maxQueue: config.maxQueue,
      threadBudget: config.threads,
      logger,
      engineInfo: bundledEngineInfo(),
    });
    metrics.setCollectors({ loadedModels: () => scheduler.ps().length, queueDepth: () => scheduler.queueDepth() });

    // One policy for resolve, show, delete, configure and unload, whichever dialect asks.
    const models = new ModelService({ catalog, engine: scheduler });

    const inference: InferenceDeps = {
      resolveModel: (name, mode) => catalog.resolveForInference(name, mode),
      scheduler,
      listModels: () => catalog.list(),
      settings: catalog.settings,
      metrics,
      logger,
      requestHistory: new RequestHistory({ perModel: config.requestHistory, recordBodies: config.recordRequestBodies }),
    };

    const routers = [
      createModelsRouter({
        catalog,
        logger,
        maxUploadBytes: config.maxUploadBytes,
        uploadDir: path.join(config.modelsPath, UPLOADS_DIR_NAME),
        models,
      }),
      createLlamaUtilitiesRouter(inference),
      createEnginesRouter({ ...inference, models }),
      createInferenceRouter(inference),
      createResponsesRouter({ ...inference, store: new ResponseStore({ maxEntries: config.responsesMaxStored, ttlMs: config.responsesTtlMs }) }),
      createMessagesRouter(inference),
      createRerankRouter(inference),
      createOllamaRouter({ ...inference, catalog: ollamaCatalogPort(catalog, models), maxUploadBytes: config.maxUploadBytes }),
      createMetricsRouter(metrics),
    ];
    const cors = corsMiddleware(config.origins);
    const appOptions = { logger, routers, writeStallTimeoutMs: config.writeStallTimeoutMs };

    // The socket is guarded by its file mode and its clients send any Host: no Host check, no key.
    const servers: http.Server[] = [createHttpServer(createApp({ ...appOptions, before: [cors] }))];
    // Registered before any listener opens, so that a start that fails half way (a port in use)
    // closes what it opened and ends. Shutdown order matters: stop accepting, then stop transfers
    // and the Workers (which aborts generations in flight, so streaming responses end), then wait
    // for the connections to finish.
    disposers.push(async () => {
      const closed = servers.map(closeServer);
      // Pulls and pushes would keep their connections open until done: they end now, with a last line that says why.
      catalog.close();
      await scheduler.close();
      await engines.close();
      stopAdmissionChildren();
      await Promise.all(closed);
    });
    // Guarded before it listens, so that no connection is ever accepted unchecked.
    if (checkPeers) guardSocketPeers(servers[0]!, { policy: peerPolicy(process.getuid!(), socketGid), logger });
    await listenOnSocket(servers[0]!, config.socketPath, { groupId: socketGid });
    let port: number | undefined;
    if (config.port !== undefined) {
      // Host first (a rebinding page gets nothing, not even CORS headers), then CORS (a preflight
      // carries no key), then the key, whose 401 then carries the CORS headers a page needs to read it.
      const tcpBefore = [hostCheck({ boundHost: config.host, allowedHosts: config.allowedHosts }), cors];
      if (apiKey !== undefined) tcpBefore.push(apiKeyCheck(apiKey));
      else if (!isLoopbackHost(config.host)) logger.warn('listening on a non-loopback address without an API key (--insecure-bind)', { host: config.host });
      const tcpServer = createHttpServer(createApp({ ...appOptions, before: tcpBefore }));
      servers.push(tcpServer);
      port = await listenOnPort(tcpServer, config.port, config.host);
    }
    logger.info('listening', { socket: config.socketPath, port, host: port === undefined ? undefined : config.host, auth: port === undefined ? undefined : apiKey !== undefined ? 'api key' : 'none', models: config.modelsPath });
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
