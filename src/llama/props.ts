/** llama-server's GET /props body, filled with what this server knows about a loaded model. */

/** What /props reports, gathered by the route from the scheduler and the resolved model. */
export interface PropsInput {
  /** The reference the model was asked by. */
  modelName: string;
  /** Path of the GGUF file. */
  modelPath: string;
  /** Context per sequence, in tokens. */
  contextSize: number;
  /** Sequences served at once (llama-server's slots). */
  parallel: number;
  /** The llama.cpp release the engine runs. */
  version: string;
  /** The model's chat template ('' when it has none). */
  chatTemplate: string;
}

export function buildPropsResponse(input: PropsInput): Record<string, unknown> {
  return {
    default_generation_settings: { n_ctx: input.contextSize, model: input.modelName },
    total_slots: input.parallel,
    model_alias: input.modelName,
    model_path: input.modelPath,
    chat_template: input.chatTemplate,
    build_info: input.version,
  };
}
