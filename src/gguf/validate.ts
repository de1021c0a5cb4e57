import path from 'node:path';
import { AppError } from '../errors.js';
import { checkHyperparameters } from './check-hyperparameters.js';
import { checkSemantics } from './check-semantics.js';
import { checkTensors } from './check-tensors.js';
import { readGgufFile } from './reader.js';
import type { GgufFile } from './types.js';

/**
 * Checks a header already read. Throws AppError('bad_request') for a malformed or truncated
 * file or hyper-parameters llama.cpp would assert on, AppError('unsupported') for a tensor
 * type this build does not know.
 */
export function validateGgufFile(file: GgufFile): GgufFile {
  const name = path.basename(file.path);
  const tensors = checkTensors(file);
  const invalid = [...checkHyperparameters(file), ...checkSemantics(file), ...tensors.invalid];
  if (invalid.length > 0) throw new AppError('bad_request', `invalid GGUF file ${name}: ${invalid.join('; ')}`);
  if (tensors.unsupported.length > 0) {
    throw new AppError('unsupported', `unsupported GGUF file ${name}: ${tensors.unsupported.join('; ')}`);
  }
  return file;
}

/**
 * Reads and checks a model file before llama.cpp sees it: a native assert would abort the
 * whole process (Workers included), so every case that would trip one is caught here. For a
 * split model, call it on every shard; only the first carries the hyper-parameters.
 */
export async function validateModelFile(file: string): Promise<GgufFile> {
  return validateGgufFile(await readGgufFile(file));
}
