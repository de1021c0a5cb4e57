/**
 * The model service of a one-shot command that runs with no server: it opens the store itself
 * (taking its lock, so a running server makes it fail with `store_locked`), and has no engine:
 * nothing is loaded, so a delete or a configure has nothing to unload.
 */
import { createSilentLogger, type Logger } from '../log.js';
import { RegistryClient } from '../registry/index.js';
import { openStore } from '../store/index.js';
import { Catalog } from './catalog.js';
import { ModelService } from './model-service.js';
import type { CatalogRegistry } from './registry-port.js';

export interface LocalModelsOptions {
  /** Receives the store's and the catalog's warnings. Defaults to a silent logger. */
  logger?: Logger;
  /** Registry for names that carry none. Defaults to "docker.io". */
  defaultRegistry?: string;
  /** The registry client for pulls and pushes. Defaults to one with no credentials, disposed by close(). */
  registry?: CatalogRegistry;
}

export interface LocalModels {
  models: ModelService;
  /** The catalog under the service, for what only it does (import, export, push). */
  catalog: Catalog;
  /** Releases the store's lock. */
  close(): Promise<void>;
}

export async function openLocalModels(root: string, options: LocalModelsOptions = {}): Promise<LocalModels> {
  const logger = options.logger ?? createSilentLogger();
  const store = await openStore(root, { logger });
  const ownRegistry = options.registry === undefined ? new RegistryClient({ logger }) : undefined;
  const catalog = new Catalog({ store, registry: options.registry ?? ownRegistry!, logger, defaultRegistry: options.defaultRegistry });
  return {
    models: new ModelService({ catalog }),
    catalog,
    async close() {
      catalog.close();
      ownRegistry?.dispose();
      await store.close();
    },
  };
}
