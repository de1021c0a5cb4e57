/**
 * Composition root: config -> logger -> store, registry, catalog, scheduler -> app -> listen.
 * The only module that wires services together; everything else receives what it needs.
 */
import http from 'node:http';
import type { Config } from './config.js';
import { createApp } from './http/app.js';
import { closeServer, listenOnPort, listenOnSocket } from './http/listen.js';
import { createLogger, type Logger } from './log.js';

export interface RunningServer {
  logger: Logger;
  socketPath: string;
  /** The TCP port actually bound, when one was asked for. */
  port: number | undefined;
  /** Stops listening, drains in-flight requests, unloads models and releases the store. */
  close(): Promise<void>;
}

export async function startServer(config: Config): Promise<RunningServer> {
  const logger = createLogger(config.logLevel);
  const disposers: Array<() => Promise<void>> = [];

  const app = createApp({ logger, routers: [] });

  const servers: http.Server[] = [];
  const socketServer = http.createServer(app);
  servers.push(socketServer);
  await listenOnSocket(socketServer, config.socketPath);
  let port: number | undefined;
  if (config.port !== undefined) {
    const tcpServer = http.createServer(app);
    servers.push(tcpServer);
    port = await listenOnPort(tcpServer, config.port, config.host);
  }
  logger.info('listening', { socket: config.socketPath, port, models: config.modelsPath });

  let closing: Promise<void> | undefined;
  return {
    logger,
    socketPath: config.socketPath,
    port,
    close() {
      closing ??= (async () => {
        await Promise.all(servers.map(closeServer));
        for (const dispose of disposers.reverse()) await dispose();
      })();
      return closing;
    },
  };
}
