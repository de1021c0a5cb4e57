/**
 * What a model carries beside its weights for Ollama's clients: a system prompt, default
 * parameters, opening messages and licenses, each a small layer of its manifest (Ollama's media
 * types, Docker's license type). Written by `create`, read by `show` and by the chat routes that
 * apply them.
 */
import { AppError } from '../errors.js';
import type { Descriptor, ImageManifest } from '../registry/types.js';
import type { ModelStore } from '../store/types.js';
import { DOCKER_LICENSE, OLLAMA_MESSAGES, OLLAMA_PARAMS, OLLAMA_SYSTEM } from './media-types.js';

/** One opening message, as Ollama keeps it (`role`, `content`, and whatever else the client sent). */
export type StoredMessage = Record<string, unknown> & { role: string; content: string };

export interface ModelExtras {
  /** The system prompt a chat gets when it sends none. */
  system?: string;
  /** Default `options` (Ollama parameter names) under those of each request. */
  parameters?: Record<string, unknown>;
  /** Messages placed before each chat's own. */
  messages?: StoredMessage[];
  /** License texts, in layer order. */
  licenses?: string[];
}

/**
 * The largest extra layer read. They hold a prompt or a license: a megabyte is generous, and a
 * pulled model whose "system prompt" is gigabytes must not be read into memory on every chat.
 */
export const MAX_EXTRA_LAYER_BYTES = 1 << 20;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMessage(value: unknown): value is StoredMessage {
  return isObject(value) && typeof value.role === 'string' && typeof value.content === 'string';
}

async function readText(store: ModelStore, layer: Descriptor, what: string): Promise<string> {
  if (layer.size > MAX_EXTRA_LAYER_BYTES) {
    throw new AppError('unsupported', `the model's ${what} layer ${layer.digest} has ${layer.size} bytes; at most ${MAX_EXTRA_LAYER_BYTES} are read`);
  }
  return (await store.readBlob(layer.digest)).toString('utf8');
}

function parseJsonLayer(text: string, layer: Descriptor, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError('unsupported', `the model's ${what} layer ${layer.digest} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** The extras `manifest` names; a model without any gives `{}`. */
export async function readModelExtras(store: ModelStore, manifest: ImageManifest): Promise<ModelExtras> {
  const extras: ModelExtras = {};
  for (const layer of manifest.layers) {
    switch (layer.mediaType) {
      case OLLAMA_SYSTEM:
        extras.system = await readText(store, layer, 'system prompt');
        break;
      case OLLAMA_PARAMS: {
        const value = parseJsonLayer(await readText(store, layer, 'parameters'), layer, 'parameters');
        if (!isObject(value)) throw new AppError('unsupported', `the model's parameters layer ${layer.digest} is not a JSON object`);
        extras.parameters = value;
        break;
      }
      case OLLAMA_MESSAGES: {
        const value = parseJsonLayer(await readText(store, layer, 'messages'), layer, 'messages');
        if (!Array.isArray(value) || !value.every(isMessage)) {
          throw new AppError('unsupported', `the model's messages layer ${layer.digest} is not an array of {role, content} messages`);
        }
        extras.messages = value;
        break;
      }
      case DOCKER_LICENSE:
        (extras.licenses ??= []).push(await readText(store, layer, 'license'));
        break;
      default:
        break;
    }
  }
  return extras;
}

/** The media types `writeExtraLayers` replaces when the corresponding extra is given. */
export function replacedMediaTypes(extras: ModelExtras): Set<string> {
  const types = new Set<string>();
  if (extras.system !== undefined) types.add(OLLAMA_SYSTEM);
  if (extras.parameters !== undefined) types.add(OLLAMA_PARAMS);
  if (extras.messages !== undefined) types.add(OLLAMA_MESSAGES);
  if (extras.licenses !== undefined) types.add(DOCKER_LICENSE);
  return types;
}

/** Stores each given extra as a blob and returns its layers (licenses, system, parameters, messages). */
export async function writeExtraLayers(store: ModelStore, extras: ModelExtras): Promise<Descriptor[]> {
  const layers: Descriptor[] = [];
  const add = async (mediaType: string, text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    const digest = await store.writeBlob(bytes);
    layers.push({ mediaType, size: bytes.length, digest });
  };
  for (const license of extras.licenses ?? []) await add(DOCKER_LICENSE, license);
  if (extras.system !== undefined) await add(OLLAMA_SYSTEM, extras.system);
  if (extras.parameters !== undefined && Object.keys(extras.parameters).length > 0) await add(OLLAMA_PARAMS, JSON.stringify(extras.parameters));
  if (extras.messages !== undefined && extras.messages.length > 0) await add(OLLAMA_MESSAGES, JSON.stringify(extras.messages));
  return layers;
}
