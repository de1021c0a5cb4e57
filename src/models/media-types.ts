/**
 * Media types of model artifacts, Docker's family and CNCF ModelPack's, and how layers are
 * classified. Docker Model Runner treats several CNCF types as equivalents of its own; the
 * same equivalences are kept here so artifacts from either packager pull and run.
 */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

export const DOCKER_CONFIG_V01 = 'application/vnd.docker.ai.model.config.v0.1+json';
export const DOCKER_CONFIG_V02 = 'application/vnd.docker.ai.model.config.v0.2+json';
export const CNCF_CONFIG = 'application/vnd.cncf.model.config.v1+json';
export const CNCF_MANIFEST_ARTIFACT = 'application/vnd.cncf.model.manifest.v1+json';

export const DOCKER_GGUF = 'application/vnd.docker.ai.gguf.v3';
export const DOCKER_MMPROJ = 'application/vnd.docker.ai.mmproj';
export const DOCKER_LICENSE = 'application/vnd.docker.ai.license';
export const DOCKER_CHAT_TEMPLATE = 'application/vnd.docker.ai.chat.template.jinja';
export const DOCKER_SAFETENSORS = 'application/vnd.docker.ai.safetensors';
export const DOCKER_MODEL_FILE = 'application/vnd.docker.ai.model.file';

export const CNCF_WEIGHT_RAW = 'application/vnd.cncf.model.weight.v1.raw';
export const CNCF_WEIGHT_GGUF = 'application/vnd.cncf.model.weight.v1.gguf';
export const CNCF_DOC_RAW = 'application/vnd.cncf.model.doc.v1.raw';
export const CNCF_WEIGHT_CONFIG_RAW = 'application/vnd.cncf.model.weight.config.v1.raw';

/**
 * Ollama's layers for what `ollama create` sets beside the weights: a system prompt (text),
 * default parameters (a JSON object), opening messages (a JSON array) and a Go chat template.
 * Models created through Ollama's API keep them in their manifest as Ollama does, so they travel
 * with the model on push and pull.
 */
export const OLLAMA_SYSTEM = 'application/vnd.ollama.image.system';
export const OLLAMA_PARAMS = 'application/vnd.ollama.image.params';
export const OLLAMA_MESSAGES = 'application/vnd.ollama.image.messages';
export const OLLAMA_TEMPLATE = 'application/vnd.ollama.image.template';

/** Layer annotations written by Docker's packager and read to name files on unpack. */
export const ANNOTATION_FILEPATH = 'org.cncf.model.filepath';
export const ANNOTATION_FILE_METADATA = 'org.cncf.model.file.metadata+json';
export const ANNOTATION_MEDIATYPE_UNTESTED = 'org.cncf.model.file.mediatype.untested';

export const SUPPORTED_CONFIG_TYPES: readonly string[] = [DOCKER_CONFIG_V01, DOCKER_CONFIG_V02, CNCF_CONFIG];

/** Accept header for manifest requests: every manifest and index form a model may be published as. */
export const MANIFEST_ACCEPT = [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST_V2].join(', ');

export type LayerRole = 'gguf' | 'mmproj' | 'license' | 'chat-template' | 'other';

export interface LayerLike {
  mediaType: string;
  annotations?: Record<string, string>;
}

/**
 * What a layer is for. `configFormat` is the config's `format` ("gguf", "safetensors"): a CNCF
 * raw weight is GGUF only when the model is, and a CNCF multimodal projector is told apart from
 * the weights only by its file name.
 */
export function classifyLayer(layer: LayerLike, configFormat: string | undefined): LayerRole {
  const filepath = layer.annotations?.[ANNOTATION_FILEPATH]?.toLowerCase() ?? '';
  switch (layer.mediaType) {
    case DOCKER_GGUF:
    case CNCF_WEIGHT_GGUF:
      return 'gguf';
    case DOCKER_MMPROJ:
      return 'mmproj';
    case DOCKER_LICENSE:
    case CNCF_DOC_RAW:
      return 'license';
    case DOCKER_CHAT_TEMPLATE:
    case CNCF_WEIGHT_CONFIG_RAW:
      return 'chat-template';
    case CNCF_WEIGHT_RAW:
      if (filepath.includes('mmproj')) return 'mmproj';
      return configFormat === undefined || configFormat === 'gguf' ? 'gguf' : 'other';
    default:
      return 'other';
  }
}
