/**
 * Checks a GGUF file in JavaScript before llama.cpp sees it: some hyper-parameters (a zero
 * head count, block count or feed-forward length) trip a GGML_ASSERT that aborts the whole
 * process, Worker or not. The checks live in src/gguf; this file only adapts its errors.
 */
import { AppError } from '../../errors.js';
import { validateModelFile } from '../../gguf/validate.js';

export async function validateGguf(path: string): Promise<void> {
  try {
    await validateModelFile(path);
  } catch (err) {
    if (err instanceof AppError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new AppError('unsupported', `invalid model file ${path}: ${message}`, { cause: err });
  }
}
