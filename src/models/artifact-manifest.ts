/**
 * Reading and writing a model's image manifest with the fields the artifact code needs (media types and
 * annotations, which the store does not look at), validating digests before they name files.
 */
import { AppError } from '../errors.js';
import type { Descriptor, ImageManifest } from '../registry/types.js';
import { isSha256Digest } from '../util/digest.js';
import { goJsonStringify, sortedRecord } from './go-json.js';
import { OCI_MANIFEST } from './media-types.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function descriptor(value: unknown, where: string, what: string): Descriptor {
  if (!isObject(value)) throw new AppError('bad_request', `${what}: ${where} is not a descriptor object`);
  const { mediaType, digest, size, annotations } = value;
  if (typeof digest !== 'string' || !isSha256Digest(digest)) {
    throw new AppError('bad_request', `${what}: ${where} has invalid digest ${JSON.stringify(digest)}; expected sha256:<64 hex digits>`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new AppError('bad_request', `${what}: ${where} has invalid size ${JSON.stringify(size)}`);
  }
  const out: Descriptor = { mediaType: typeof mediaType === 'string' ? mediaType : '', digest, size };
  if (isObject(annotations)) {
    out.annotations = Object.fromEntries(Object.entries(annotations).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  }
  return out;
}

/** Parses image manifest bytes; `what` names the manifest in errors ("model sha256:…", "manifest.json"). */
export function parseImageManifest(bytes: Uint8Array, what = 'manifest'): ImageManifest {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new AppError('bad_request', `${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(value)) throw new AppError('bad_request', `${what} is not a JSON object`);
  if (value.schemaVersion !== 2) {
    throw new AppError('bad_request', `${what} has schemaVersion ${JSON.stringify(value.schemaVersion)}; expected 2`);
  }
  if (!Array.isArray(value.layers)) throw new AppError('bad_request', `${what} has no "layers" array`);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    config: descriptor(value.config, 'config', what),
    layers: value.layers.map((layer, i) => descriptor(layer, `layers[${i}]`, what)),
  };
  if (typeof value.mediaType === 'string') manifest.mediaType = value.mediaType;
  if (typeof value.artifactType === 'string') manifest.artifactType = value.artifactType;
  return manifest;
}

/** Go's oci.Manifest / oci.Descriptor field order, annotations with sorted keys. */
export function buildManifest(config: Descriptor, layers: Descriptor[]): Buffer {
  const descriptor = (d: Descriptor) => ({
    mediaType: d.mediaType,
    size: d.size,
    digest: d.digest,
    ...(d.annotations && Object.keys(d.annotations).length > 0 ? { annotations: sortedRecord(d.annotations) } : {}),
  });
  return Buffer.from(
    goJsonStringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: descriptor(config),
      layers: layers.map(descriptor),
    }),
  );
}
