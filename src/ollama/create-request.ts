/**
 * POST /api/create and the blob routes' digests: Ollama's request shapes -> what the catalog's
 * `create` takes. What this server cannot do (quantize, LoRA adapters, convert safetensors, Go
 * templates) is refused with a message that says so, before anything is written.
 */
import { AppError } from '../errors.js';
import type { CreateRequest, StoredMessage, UploadedFile } from '../models/index.js';
import { badParam, isJsonObject, type JsonObject, optionalString, requireObjectBody } from '../openai/validate.js';
import { parseModelName, parseStream } from './common.js';
import { parseOptions } from './options.js';

export interface ParsedOllamaCreate {
  /** The name the new model gets. */
  model: string;
  stream: boolean;
  request: CreateRequest;
}

const MESSAGE_ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant', 'tool']);

/**
 * A digest as Ollama's clients write it: `sha256:<hex>`, or `sha256-<hex>` (its file names).
 * Returns the `sha256:<hex>` form; throws bad_request naming `param` otherwise.
 */
export function parseBlobDigest(text: unknown, param = 'digest'): string {
  const match = typeof text === 'string' ? /^sha256[:-]([0-9a-f]{64})$/.exec(text.trim()) : null;
  if (!match) throw badParam(param, `invalid digest format ${JSON.stringify(text)}: expected sha256:<64 lowercase hex digits>`);
  return `sha256:${match[1]}`;
}

/** Go's fs.ValidPath: relative, slash-separated, no empty, "." or ".." element. */
function isValidRelativePath(name: string): boolean {
  if (name === '' || name.includes('\\') || name.includes('\0')) return false;
  return name.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

function parseFiles(value: unknown): UploadedFile[] {
  if (!isJsonObject(value)) throw badParam('files', 'files must be an object mapping each file name to the digest of its uploaded blob');
  const files: UploadedFile[] = [];
  for (const [name, digest] of Object.entries(value)) {
    if (!isValidRelativePath(name)) throw badParam('files', `file path must be relative: ${JSON.stringify(name)}`);
    if (name.toLowerCase().endsWith('.safetensors')) {
      throw badParam('files', `${name} is a safetensors file: this server does not convert models; upload the model as a GGUF file`);
    }
    files.push({ name, digest: parseBlobDigest(digest, `files.${name}`) });
  }
  if (files.length === 0) throw badParam('files', 'files is empty: name at least one uploaded GGUF file');
  return files;
}

/** `parameters`: checked with the same reader as a request's `options`, and named as the caller wrote them. */
function parseParameters(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value)) throw badParam('parameters', 'parameters must be an object of Ollama parameters such as {"temperature": 0.7}');
  try {
    parseOptions({ options: value });
  } catch (err) {
    if (err instanceof AppError && err.code === 'bad_request') {
      throw new AppError('bad_request', err.message.replace(/\boptions\./g, 'parameters.'), { data: { param: 'parameters' }, cause: err });
    }
    throw err;
  }
  return Object.keys(value).length > 0 ? { ...value } : undefined;
}

function parseMessages(value: unknown): StoredMessage[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw badParam('messages', 'messages must be an array of {role, content} objects');
  const messages = value.map((message, i) => {
    if (!isJsonObject(message) || typeof message.role !== 'string' || typeof message.content !== 'string') {
      throw badParam(`messages[${i}]`, `messages[${i}] must be an object with string role and content`);
    }
    if (!MESSAGE_ROLES.has(message.role)) {
      throw badParam(`messages[${i}].role`, `messages[${i}].role must be one of ${[...MESSAGE_ROLES].join(', ')}, got ${JSON.stringify(message.role)}`);
    }
    return { ...message, role: message.role, content: message.content };
  });
  return messages.length > 0 ? messages : undefined;
}

function parseLicense(value: unknown): string[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.length > 0 ? (value as string[]) : undefined;
  throw badParam('license', 'license must be a string or an array of strings');
}

/** Fields that name something this server does not do; a non-empty value is refused, not ignored. */
function refuseUnsupported(body: JsonObject): void {
  for (const field of ['quantize', 'quantization']) {
    const value = body[field];
    if (value !== undefined && value !== null && value !== '') {
      throw badParam(field, `${field} is not supported: this server does not quantize models; upload a GGUF file that is already quantized`);
    }
  }
  const adapters = body.adapters;
  if (adapters !== undefined && adapters !== null && !(isJsonObject(adapters) && Object.keys(adapters).length === 0)) {
    throw badParam('adapters', 'adapters are not supported: this server does not apply LoRA adapters; merge the adapter into the GGUF before uploading it');
  }
  const template = body.template;
  if (template !== undefined && template !== null && template !== '') {
    throw badParam(
      'template',
      "template is not supported: this server formats chats with the Jinja chat template inside the GGUF and cannot run Ollama's Go templates; put the template in the GGUF's tokenizer.chat_template",
    );
  }
}

export function parseOllamaCreate(input: unknown): ParsedOllamaCreate {
  const body = requireObjectBody(input);
  const model = parseModelName(body);
  const stream = parseStream(body);
  refuseUnsupported(body);
  const from = optionalString(body, 'from')?.trim() || undefined;
  const hasFiles = body.files !== undefined && body.files !== null;
  if (from === undefined && !hasFiles) throw new AppError('bad_request', "neither 'from' or 'files' was specified");
  if (from !== undefined && hasFiles) throw new AppError('bad_request', "give either 'from' or 'files', not both");

  const request: CreateRequest = from !== undefined ? { from } : { files: parseFiles(body.files) };
  const system = optionalString(body, 'system');
  if (system !== undefined && system !== '') request.system = system;
  const parameters = parseParameters(body.parameters);
  if (parameters !== undefined) request.parameters = parameters;
  const messages = parseMessages(body.messages);
  if (messages !== undefined) request.messages = messages;
  const licenses = parseLicense(body.license);
  if (licenses !== undefined) request.licenses = licenses;
  return { model, stream, request };
}
