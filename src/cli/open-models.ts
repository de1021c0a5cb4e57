import { AppError, isAppError } from '../errors.js';
import { type LocalModels, type LocalModelsOptions, openLocalModels } from '../models/index.js';

/**
 * Opens the model service of a one-shot command on the store at `modelsPath`. A running server
 * holds the store's lock, and only one process may write models.json, so the error says what to
 * do instead (`alternative`).
 */
export async function openModelsForCommand(modelsPath: string, alternative: string, options: LocalModelsOptions = {}): Promise<LocalModels> {
  try {
    return await openLocalModels(modelsPath, options);
  } catch (err) {
    if (isAppError(err) && err.code === 'store_locked') {
      throw new AppError('store_locked', `${err.message}. A running model-runner server holds this store: ${alternative}`, { cause: err });
    }
    throw err;
  }
}
