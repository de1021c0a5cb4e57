/**
 * The part of an OCI image manifest the store cares about: which blobs it references. The store
 * does not judge media types (the catalog does); it only refuses bytes that are not a manifest,
 * because an index entry must always be able to name its blobs.
 */
import { AppError } from '../errors.js';
import { isSha256Digest } from '../util/digest.js';

export interface ManifestBlobRef {
  digest: string;
  /** Declared size, when the manifest gives a usable one. */
  size: number | undefined;
}

export interface ManifestRefs {
  config: ManifestBlobRef;
  layers: ManifestBlobRef[];
}

/** Parses manifest bytes, refusing anything that is not JSON with a config descriptor and a layers array. */
export function parseManifestRefs(bytes: Uint8Array): ManifestRefs {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new AppError('bad_request', `manifest is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(value)) throw new AppError('bad_request', 'manifest is not a JSON object');
  if (value.schemaVersion !== undefined && value.schemaVersion !== 2) {
    throw new AppError('bad_request', `manifest schemaVersion ${JSON.stringify(value.schemaVersion)} is not supported: expected 2`);
  }
  if (!Array.isArray(value.layers)) throw new AppError('bad_request', 'manifest has no "layers" array');
  return {
    config: descriptor(value.config, 'config'),
    layers: value.layers.map((layer, i) => descriptor(layer, `layers[${i}]`)),
  };
}

/** Every blob a manifest references, layers first then the config, without repeats (the `files` of an index entry). */
export function referencedDigests(refs: ManifestRefs): string[] {
  return [...new Set([...refs.layers.map((l) => l.digest), refs.config.digest])];
}

function descriptor(value: unknown, where: string): ManifestBlobRef {
  if (!isObject(value)) throw new AppError('bad_request', `manifest ${where} is not a descriptor object`);
  const { digest, size } = value;
  if (typeof digest !== 'string' || !isSha256Digest(digest)) {
    throw new AppError('bad_request', `manifest ${where} has invalid digest ${JSON.stringify(digest)}: expected sha256:<64 hex digits>`);
  }
  const usableSize = typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? size : undefined;
  return { digest, size: usableSize };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
