/** Docker `Model` objects (GET /models) -> OpenAI model objects (GET /v1/models). */

/** The fields of Docker's model `config` that the views of a model (here and the CLI's `ls`) read. */
export interface DockerModelConfigFields {
  format?: string;
  quantization?: string;
  parameters?: string;
  architecture?: string;
  size?: string;
  context_size?: number;
}

/** The subset of Docker's `Model` shape this translation reads. */
export interface DockerModel {
  /** sha256:<manifest digest> */
  id: string;
  tags: string[];
  /** Unix seconds. */
  created: number;
  config: DockerModelConfigFields;
}

export interface OpenAIModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: 'docker';
  dmr: {
    context_window?: number;
    architecture?: string;
    parameters?: string;
    quantization?: string;
    size?: string;
  };
}

export interface OpenAIModelList {
  object: 'list';
  data: OpenAIModel[];
}

export function toOpenAIModel(model: DockerModel): OpenAIModel {
  const { config } = model;
  return {
    // Clients pass this id back as `model`; the first tag is friendlier than the digest.
    id: model.tags[0] ?? model.id,
    object: 'model',
    created: model.created,
    owned_by: 'docker',
    dmr: {
      context_window: config.context_size,
      architecture: config.architecture,
      parameters: config.parameters,
      quantization: config.quantization,
      size: config.size,
    },
  };
}

export function toOpenAIModelList(models: DockerModel[]): OpenAIModelList {
  return { object: 'list', data: models.map(toOpenAIModel) };
}
