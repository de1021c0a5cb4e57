/**
 * A model whose load the test holds: once llama.cpp has read it, its engine waits until a release
 * file exists (the HOLD_LOAD_PREFIX test fault; the server needs MODEL_RUNNER_TEST_FAULTS=1), so
 * that a test acts while a load is surely under way and then lets it finish.
 */
import path from 'node:path';
import { gguf } from '../../../src/gguf/index.js';
import { HOLD_LOAD_PREFIX } from '../../../src/engine/worker/test-faults.js';
import { setMetadata, writeMutatedModel } from '../../support/hostile-models.js';
import { packageIntoStore } from './fixtures.js';

/**
 * Writes such a model into `dir`, packages it into the store at `modelsPath` as `reference`, and
 * resolves with its release file (`dir`/release-load, not yet there): write it to let the load go on.
 */
export async function packageHeldLoadModel(dir: string, modelsPath: string, reference: string): Promise<string> {
  const release = path.join(dir, 'release-load');
  const file = await writeMutatedModel(path.join(dir, 'slow-load.gguf'), (plan) => setMetadata(plan, 'general.name', gguf.str(`${HOLD_LOAD_PREFIX}${release}`)));
  await packageIntoStore(file, modelsPath, reference);
  return release;
}
