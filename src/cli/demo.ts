import { createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { generateModel } from '../gguf/index.js';
import { isAppError } from '../errors.js';
import { openLocalModels } from '../models/index.js';
import { parseReference } from '../registry/index.js';
import { loadCommand } from './load.js';

/** The demo model's name; stored as docker.io/ai/demo:latest. */
export const DEMO_REFERENCE = 'ai/demo';
/** Fixed seed and creation time: every run builds the same bytes, so the model ID never changes. */
export const DEMO_SEED = 42;
export const DEMO_CREATED = new Date('2025-01-01T00:00:00Z');
/** The demo reranker's name (demo --reranker), for trying /rerank and /score. */
export const DEMO_RERANKER_REFERENCE = 'ai/demo-reranker';

const USAGE = `Usage: model-runner demo [--models-path DIR] [--socket PATH] [--reranker]

Generates a tiny random-weight model and stores it as ${DEMO_REFERENCE}, so that the API can be tried
without a download. Running it again gives the same model ID. When a server holds the store, the
model is sent to that server (on --socket, MODEL_RUNNER_SOCK or ./model-runner.sock) instead.
With --reranker, stores a tiny reranker as ${DEMO_RERANKER_REFERENCE} instead, for /rerank and /score.
`;

/** `demo`: puts a tiny generated model into the store and prints its ID. */
export async function demoCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      'models-path': { type: 'string' },
      socket: { type: 'string' },
      reranker: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const config = loadConfig(values['models-path'] === undefined ? [] : ['--models-path', values['models-path']]);
  const reranker = values.reranker;
  const reference = reranker ? DEMO_RERANKER_REFERENCE : DEMO_REFERENCE;
  const tag = parseReference(reference, { defaultRegistry: config.defaultRegistry }).canonical;
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'model-runner-demo-'));
  try {
    const ggufPath = path.join(scratch, 'demo.gguf');
    await generateModel({ path: ggufPath, preset: 'tiny', type: 'q8_0', seed: DEMO_SEED, reranker });
    // Reading the file's mode into the layer metadata must not vary with the umask of whoever runs this.
    await fs.chmod(ggufPath, 0o644);
    const local = await openLocalModels(config.modelsPath, { defaultRegistry: config.defaultRegistry }).catch((err: unknown) => {
      if (isAppError(err) && err.code === 'store_locked') return undefined;
      throw err;
    });
    if (!local) return await sendThroughServer(ggufPath, scratch, values.socket, reference);
    try {
      const { id } = await local.catalog.importGguf(ggufPath, { created: DEMO_CREATED, tag });
      process.stderr.write(`Stored a tiny generated model as ${tag} in ${config.modelsPath}\n`);
      process.stdout.write(`${id}\n`);
    } finally {
      await local.close();
    }
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/**
 * A running server holds the store: package the model in a scratch store with the same fixed
 * inputs (so the ID is the one a direct run gives), export it as a tar and load that through the
 * server, as `load FILE --tag <reference>` would.
 */
async function sendThroughServer(ggufPath: string, scratch: string, socket: string | undefined, reference: string): Promise<void> {
  const tarPath = path.join(scratch, 'demo.tar');
  const local = await openLocalModels(path.join(scratch, 'store'));
  try {
    const { id } = await local.catalog.importGguf(ggufPath, { created: DEMO_CREATED });
    await pipeline((await local.catalog.exportTar(id)).stream, createWriteStream(tarPath));
  } finally {
    await local.close();
  }
  process.stderr.write(`A server holds the store; sending the model to it as ${reference}\n`);
  await loadCommand([tarPath, '--tag', reference, ...(socket === undefined ? [] : ['--socket', socket])]);
}
