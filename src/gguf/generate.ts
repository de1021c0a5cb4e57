import { planModel, type ModelPlanOptions } from './model-plan.js';
import { writeGgufFile } from './writer.js';

export interface GenerateModelOptions extends ModelPlanOptions {
  /** Destination file; replaced atomically. Parent directories are created. */
  path: string;
}

export interface GeneratedModel {
  path: string;
  /** File size in bytes. */
  size: number;
  /** Number of weights (sum of tensor element counts). */
  parameters: number;
}

/**
 * Writes a random-weight llama model that llama.cpp loads and runs. Deterministic: the same
 * options give a byte-identical file.
 */
export async function generateModel(options: GenerateModelOptions): Promise<GeneratedModel> {
  const plan = planModel(options);
  const { path, size } = await writeGgufFile({ path: options.path, metadata: plan.metadata, tensors: plan.tensors });
  return { path, size, parameters: plan.parameters };
}
