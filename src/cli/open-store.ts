import { AppError, isAppError } from '../errors.js';
import { openStore, type ModelStore } from '../store/index.js';

/**
 * Opens the store for a one-shot command. A running server holds the store's lock, and only one
 * process may write models.json, so the error says what to do instead (`alternative`).
 */
export async function openStoreForCommand(modelsPath: string, alternative: string): Promise<ModelStore> {
  try {
    return await openStore(modelsPath);
  } catch (err) {
    if (isAppError(err) && err.code === 'store_locked') {
      throw new AppError('store_locked', `${err.message}. A running model-runner server holds this store: ${alternative}`, { cause: err });
    }
    throw err;
  }
}
