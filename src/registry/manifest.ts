/**
 * Manifest resolution: a tag or digest becomes the raw bytes of one image manifest and their
 * digest (the model ID). An index or manifest list is accepted too and narrowed to the entry
 * that looks like a model. Bytes are checked against every digest known for them.
 */
import { AppError } from '../errors.js';
import { isSha256Digest, sha256Digest } from '../util/digest.js';
import {
  CNCF_MANIFEST_ARTIFACT,
  DOCKER_MANIFEST_LIST,
  DOCKER_MANIFEST_V2,
  MANIFEST_ACCEPT,
  OCI_INDEX,
  OCI_MANIFEST,
} from '../models/media-types.js';
import { readBody } from './http.js';
import { errorForResponse } from './registry-errors.js';
import { RegistrySession } from './registry-session.js';
import type { Descriptor, ImageManifest, PullAuth, Reference, ResolvedManifest } from './types.js';

/** Manifests of models are a few KiB; an index of many platforms stays far below this. */
export const MANIFEST_LIMIT = 4 * 1024 * 1024;
/**
 * Layers one manifest may list. A model has a handful (weights, shards, license, template); a
 * hostile manifest of thousands would open as many downloads and partial files.
 */
export const MAX_LAYERS = 256;
/** A model's config blob is JSON of a few KiB; it is held in memory, so its size is capped before it is fetched. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

const INDEX_TYPES = new Set([OCI_INDEX, DOCKER_MANIFEST_LIST]);
const MANIFEST_TYPES = new Set([OCI_MANIFEST, DOCKER_MANIFEST_V2]);

interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  mediaType: string;
  json: Record<string, unknown>;
}

function upstream(ref: Reference, reference: string, why: string): AppError {
  return new AppError('upstream', `${RegistrySession.describe(ref, `manifest ${reference}`)} is not a usable manifest: ${why}`);
}

/** Validates a descriptor from outside: its digest later names files, its size bounds downloads. */
export function parseDescriptor(value: unknown, ref: Reference, reference: string, where: string): Descriptor {
  const d = value as Partial<Descriptor> | null;
  if (typeof d !== 'object' || d === null) throw upstream(ref, reference, `${where} is not an object`);
  if (typeof d.mediaType !== 'string' || d.mediaType === '') throw upstream(ref, reference, `${where} has no mediaType`);
  if (typeof d.digest !== 'string' || !isSha256Digest(d.digest)) throw upstream(ref, reference, `${where} has digest ${JSON.stringify(d.digest)}, expected sha256:<64 hex>`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw upstream(ref, reference, `${where} has size ${JSON.stringify(d.size) ?? 'undefined'}, expected a whole number of bytes from 0 to 2^53 - 1`);
  }
  return d as Descriptor;
}

async function fetchManifest(session: RegistrySession, ref: Reference, reference: string, auth?: PullAuth, signal?: AbortSignal): Promise<FetchedManifest> {
  const what = RegistrySession.describe(ref, `manifest ${reference}`);
  const { response } = await session.request({
    ref,
    method: 'GET',
    path: `manifests/${reference}`,
    headers: { accept: MANIFEST_ACCEPT },
    actions: 'pull',
    auth,
    signal,
  });
  if (response.statusCode !== 200) throw await errorForResponse(response, what);
  const bytes = await readBody(response, MANIFEST_LIMIT, what, session.stall);
  const digest = sha256Digest(bytes);
  const expected = [reference.startsWith('sha256:') ? reference : undefined, response.headers['docker-content-digest']];
  for (const want of expected) {
    if (typeof want === 'string' && isSha256Digest(want) && want !== digest) {
      throw new AppError('digest_mismatch', `${what}: received bytes hash to ${digest}, expected ${want}`);
    }
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw upstream(ref, reference, 'the body is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw upstream(ref, reference, 'the body is not a JSON object');
  const header = String(response.headers['content-type'] ?? '').split(';')[0]!.trim();
  const mediaType = typeof json.mediaType === 'string' ? json.mediaType : header;
  return { bytes, digest, mediaType, json };
}

function isIndex(m: FetchedManifest): boolean {
  return INDEX_TYPES.has(m.mediaType) || (Array.isArray(m.json.manifests) && m.json.config === undefined);
}

/** The index entry to follow: one whose artifactType says model, else the first manifest. */
function pickIndexEntry(m: FetchedManifest, ref: Reference, reference: string): Descriptor {
  const entries = Array.isArray(m.json.manifests) ? m.json.manifests : [];
  const descriptors = entries.map((e, i) => parseDescriptor(e, ref, reference, `index entry ${i}`));
  // Nested indexes are not followed: one level is all a model needs, and a chain of them is work a registry could make endless.
  const manifests = descriptors.filter((d) => !INDEX_TYPES.has(d.mediaType));
  const chosen = manifests.find((d) => d.artifactType === CNCF_MANIFEST_ARTIFACT) ?? manifests[0];
  if (!chosen && descriptors.length > 0) throw upstream(ref, reference, 'the index lists only other indexes, which are not followed');
  if (!chosen) throw upstream(ref, reference, 'the index lists no manifest');
  return chosen;
}

function toImageManifest(m: FetchedManifest, ref: Reference, reference: string): ImageManifest {
  const j = m.json;
  if (!MANIFEST_TYPES.has(m.mediaType) && m.mediaType !== '') throw upstream(ref, reference, `unexpected media type ${m.mediaType}`);
  if (j.schemaVersion !== 2) throw upstream(ref, reference, `schemaVersion is ${JSON.stringify(j.schemaVersion)}, expected 2`);
  if (!Array.isArray(j.layers)) throw upstream(ref, reference, 'it has no layers array');
  if (j.layers.length > MAX_LAYERS) throw upstream(ref, reference, `it lists ${j.layers.length} layers, more than the ${MAX_LAYERS} allowed`);
  const config = parseDescriptor(j.config, ref, reference, 'config');
  if (config.size > MAX_CONFIG_BYTES) {
    throw upstream(ref, reference, `its config blob is ${config.size} bytes, more than the ${MAX_CONFIG_BYTES} bytes (4 MiB) allowed`);
  }
  const layers = j.layers.map((l, i) => parseDescriptor(l, ref, reference, `layer ${i}`));
  return { ...(j as unknown as ImageManifest), config, layers };
}

/** Resolves a reference to one image manifest (following an index to its model entry). */
export async function resolveManifest(session: RegistrySession, ref: Reference, auth?: PullAuth, signal?: AbortSignal): Promise<ResolvedManifest> {
  const reference = ref.digest ?? ref.tag ?? 'latest';
  let fetched = await fetchManifest(session, ref, reference, auth, signal);
  let fetchedAs = reference;
  if (isIndex(fetched)) {
    const entry = pickIndexEntry(fetched, ref, reference);
    fetchedAs = entry.digest;
    fetched = await fetchManifest(session, ref, entry.digest, auth, signal);
    if (isIndex(fetched)) throw upstream(ref, entry.digest, 'an index entry points at another index');
  }
  const manifest = toImageManifest(fetched, ref, fetchedAs);
  return { digest: fetched.digest, mediaType: fetched.mediaType || OCI_MANIFEST, bytes: fetched.bytes, manifest };
}
