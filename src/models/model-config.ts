/**
 * The model config blob: reading Docker's (v0.1, v0.2) and CNCF ModelPack's forms into the one
 * shape the API returns, and writing Docker's v0.1 form byte for byte as its packager does.
 */
import { AppError, type ErrorCode } from '../errors.js';
import { formatBinarySize, formatParameterCount } from '../util/units.js';
import { formatRfc3339, goJsonStringify, sortedRecord } from './go-json.js';
import { SUPPORTED_CONFIG_TYPES } from './media-types.js';

/** The `config` object of `GET /models` entries (Docker's `types.Config`, snake_case). */
export interface DockerModelConfig {
  format: string;
  quantization: string;
  parameters: string;
  architecture: string;
  size: string;
  /** Every GGUF metadata key with its value as a string. Empty for other formats. */
  gguf: Record<string, string>;
  safetensors?: Record<string, string>;
  diffusers?: Record<string, string>;
  /** Context size set at packaging time; -1 means unlimited. */
  context_size?: number;
}

export interface ParsedModelConfig {
  config: DockerModelConfig;
  /** Creation time in unix seconds, when the config records one. */
  created?: number;
  /** Content digests of the layers, bottom-most first. */
  diffIds: string[];
}

export interface ParseModelConfigOptions {
  /** Digest of the config blob, named in error messages. Defaults to undefined (not named). */
  digest?: string;
  /**
   * Code of the error thrown for malformed JSON: "upstream" when the blob came from a registry,
   * "bad_request" when a caller supplied it. Defaults to "bad_request".
   */
  errorCode?: ErrorCode;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function stringMap(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

function unixSeconds(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

function digestList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((d): d is string => typeof d === 'string') : [];
}

/** Docker Model Runner's test for the CNCF form: any of these keys, whatever the media type says. */
function isModelPackConfig(json: Json): boolean {
  return (
    (isObject(json.config) && 'paramSize' in json.config) ||
    (isObject(json.descriptor) && 'createdAt' in json.descriptor) ||
    'modelfs' in json
  );
}

/** "8b" or "134.52m" (ModelPack spelling) becomes "8B" / "134.52M" (Docker spelling). */
function normaliseParamSize(value: string): string {
  return /^\d+(\.\d+)?[kmbt]$/i.test(value) ? value.toUpperCase() : value;
}

function fromDocker(json: Json): ParsedModelConfig {
  const c = isObject(json.config) ? json.config : {};
  const config: DockerModelConfig = {
    format: str(c.format),
    quantization: str(c.quantization),
    parameters: str(c.parameters),
    architecture: str(c.architecture),
    size: str(c.size),
    gguf: stringMap(c.gguf) ?? {},
  };
  const safetensors = stringMap(c.safetensors);
  if (safetensors) config.safetensors = safetensors;
  const diffusers = stringMap(c.diffusers);
  if (diffusers) config.diffusers = diffusers;
  if (typeof c.context_size === 'number' && Number.isInteger(c.context_size)) config.context_size = c.context_size;
  const descriptor = isObject(json.descriptor) ? json.descriptor : {};
  const rootfs = isObject(json.rootfs) ? json.rootfs : {};
  return { config, created: unixSeconds(descriptor.created), diffIds: digestList(rootfs.diff_ids) };
}

function fromModelPack(json: Json): ParsedModelConfig {
  const c = isObject(json.config) ? json.config : {};
  const descriptor = isObject(json.descriptor) ? json.descriptor : {};
  const modelfs = isObject(json.modelfs) ? json.modelfs : {};
  const config: DockerModelConfig = {
    format: str(c.format).toLowerCase(),
    quantization: str(c.quantization) || str(c.precision),
    parameters: normaliseParamSize(str(c.paramSize)),
    architecture: str(c.architecture) || str(descriptor.family),
    // ModelPack records no file size; the catalog may fill it from the layer sizes.
    size: '',
    gguf: {},
  };
  return { config, created: unixSeconds(descriptor.createdAt), diffIds: digestList(modelfs.diffIds) };
}

/**
 * Reads a config blob of any supported type into the API's Docker shape. An unsupported media type
 * is refused before the bytes are looked at, as Docker Model Runner does on pull.
 */
export function parseModelConfig(mediaType: string, bytes: Buffer, options: ParseModelConfigOptions = {}): ParsedModelConfig {
  if (!SUPPORTED_CONFIG_TYPES.includes(mediaType)) {
    throw new AppError('unsupported', `config type "${mediaType}" is not supported by this version of model-runner; try upgrading`);
  }
  const what = options.digest ? `model config ${options.digest}` : 'model config';
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new AppError(options.errorCode ?? 'bad_request', `${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(json)) {
    throw new AppError(options.errorCode ?? 'bad_request', `${what} is not a JSON object`);
  }
  return isModelPackConfig(json) ? fromModelPack(json) : fromDocker(json);
}

/** What the packager needs to know about the GGUF; `describeModel` from src/gguf returns a superset. */
export interface GgufSummary {
  architecture: string;
  /** Parameter count, or an already formatted count such as "134.52M". */
  parameters: number | string;
  /** File type name such as "Q8_0" or "Q4_K_M". */
  quantization: string;
  /** Every GGUF metadata key with its value as a string. */
  kv: Record<string, string>;
}

export interface BuildDockerConfigOptions {
  /** Facts read from the (first shard of the) GGUF. */
  ggufInfo: GgufSummary;
  /** Bytes of all GGUF shards together, written as `size`. */
  totalSize: number;
  /** Context size to record; -1 means unlimited. Defaults to undefined (the key is left out). */
  contextSize?: number;
  /** Written as `descriptor.created`; pass a fixed date for reproducible digests. */
  created: Date;
  /** Digest of every layer in manifest order (GGUF shards first, then extras). */
  diffIds: string[];
}

/**
 * The v0.1 config JSON exactly as Docker's packager serialises `types.ConfigFile`: Go struct field
 * order, empty strings omitted, map keys sorted, HTML-escaped, created in RFC 3339.
 */
export function buildDockerConfig(options: BuildDockerConfigOptions): Buffer {
  const { ggufInfo } = options;
  const parameters =
    typeof ggufInfo.parameters === 'number' ? formatParameterCount(ggufInfo.parameters) : ggufInfo.parameters.replace(/\s+/g, '');
  const fields: Array<[string, unknown]> = [
    ['format', 'gguf'],
    ['quantization', ggufInfo.quantization],
    ['parameters', parameters],
    ['architecture', ggufInfo.architecture],
    ['size', formatBinarySize(options.totalSize)],
    ['gguf', Object.keys(ggufInfo.kv).length > 0 ? sortedRecord(ggufInfo.kv) : undefined],
    ['context_size', options.contextSize],
  ];
  const config: Json = {};
  for (const [key, value] of fields) {
    // Go's omitempty: empty strings and maps and nil pointers are left out.
    if (value === undefined || value === '') continue;
    config[key] = value;
  }
  return Buffer.from(
    goJsonStringify({
      config,
      descriptor: { created: formatRfc3339(options.created) },
      rootfs: { type: 'rootfs', diff_ids: options.diffIds },
    }),
  );
}
