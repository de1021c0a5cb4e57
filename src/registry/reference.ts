/**
 * Model references as Docker Model Runner normalises them: "smollm2" means
 * "docker.io/ai/smollm2:latest", repository names are lower-cased, tags keep their case.
 * Every part that later names a URL path or a file is validated here, so a reference that
 * parses can never smuggle "..", a query string or a second host into a request.
 */
import { AppError } from '../errors.js';
import type { Reference } from './types.js';

export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_HOST = 'registry-1.docker.io';
export const DEFAULT_TAG = 'latest';
/** Docker Model Runner's namespace for single-word names ("smollm2" -> "ai/smollm2"). */
export const DEFAULT_NAMESPACE = 'ai';

/** Names Docker clients use for Docker Hub; all of them mean "docker.io". */
const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io', DOCKER_HUB_HOST]);
const MAX_NAME_LENGTH = 255;
const MAX_TAG_LENGTH = 128;

/** One path component of a repository (distribution's reference grammar). */
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST_NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;
const IPV6_LITERAL = /^\[[0-9a-f:.]+\]$/;
const PORT = /^[0-9]{1,5}$/;

export interface ParseReferenceOptions {
  /** Registry for references that name none, e.g. "127.0.0.1:5000". Defaults to "docker.io". */
  defaultRegistry?: string;
}

function invalid(input: string, why: string): AppError {
  return new AppError('invalid_reference', `invalid reference ${JSON.stringify(input)}: ${why}`);
}

/** "index.docker.io" and friends become "docker.io"; other hosts are lower-cased. */
function normaliseRegistry(registry: string): string {
  const lower = registry.toLowerCase();
  return DOCKER_HUB_ALIASES.has(lower) ? DOCKER_HUB : lower;
}

function validateRegistry(input: string, registry: string): void {
  let hostPart = registry;
  let port: string | undefined;
  if (registry.startsWith('[')) {
    const end = registry.indexOf(']');
    hostPart = registry.slice(0, end + 1);
    const rest = registry.slice(end + 1);
    if (end < 0 || (rest !== '' && !rest.startsWith(':'))) throw invalid(input, `bad registry host "${registry}"`);
    port = rest === '' ? undefined : rest.slice(1);
    if (!IPV6_LITERAL.test(hostPart)) throw invalid(input, `bad registry host "${registry}"`);
  } else {
    const colon = registry.indexOf(':');
    if (colon >= 0) {
      hostPart = registry.slice(0, colon);
      port = registry.slice(colon + 1);
    }
    if (!HOST_NAME.test(hostPart)) throw invalid(input, `bad registry host "${registry}"`);
  }
  if (port !== undefined && (!PORT.test(port) || Number(port) > 65535 || Number(port) === 0)) {
    throw invalid(input, `bad registry port in "${registry}"`);
  }
}

function validateRepository(input: string, repository: string): void {
  if (repository.length === 0) throw invalid(input, 'missing repository name');
  if (repository.length > MAX_NAME_LENGTH) throw invalid(input, `repository name longer than ${MAX_NAME_LENGTH} characters`);
  for (const component of repository.split('/')) {
    if (component === '' ) throw invalid(input, 'empty path component in repository name');
    if (component === '.' || component === '..') throw invalid(input, `path traversal component "${component}" in repository name`);
    if (!PATH_COMPONENT.test(component)) {
      throw invalid(input, `repository component "${component}" may only hold a-z, 0-9 and single separators (. _ __ -) between them`);
    }
  }
}

function validateTag(input: string, tag: string): void {
  if (tag.length > MAX_TAG_LENGTH) throw invalid(input, `tag longer than ${MAX_TAG_LENGTH} characters`);
  if (!TAG.test(tag)) throw invalid(input, `tag "${tag}" may only hold letters, digits, '_', '.' and '-' and must not start with '.' or '-'`);
}

/** True when the first path segment names a registry rather than a namespace. */
function looksLikeRegistry(segment: string): boolean {
  return segment.includes('.') || segment.includes(':') || segment === 'localhost' || segment.startsWith('[');
}

/**
 * Parses and normalises a model reference.
 * Throws AppError('invalid_reference') naming the input and the reason.
 */
export function parseReference(input: string, options: ParseReferenceOptions = {}): Reference {
  let text = input.trim();
  if (text.length === 0) throw invalid(input, 'empty reference');
  if (/[\s\\?#%]/.test(text) || /[^\x21-\x7e]/.test(text)) throw invalid(input, 'contains whitespace or characters not allowed in a reference');
  if (text.toLowerCase().startsWith('hf.co/')) text = `huggingface.co/${text.slice('hf.co/'.length)}`;

  let digest: string | undefined;
  const at = text.indexOf('@');
  if (at >= 0) {
    digest = text.slice(at + 1);
    text = text.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(input, `bad digest "${digest}": expected sha256:<64 lower-case hex digits>`);
  }

  let tag: string | undefined;
  const lastSlash = text.lastIndexOf('/');
  const colon = text.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = text.slice(colon + 1);
    text = text.slice(0, colon);
    if (tag === '') tag = undefined;
    else validateTag(input, tag);
  }

  const firstSlash = text.indexOf('/');
  let registry: string;
  let repository: string;
  if (firstSlash >= 0 && looksLikeRegistry(text.slice(0, firstSlash))) {
    registry = text.slice(0, firstSlash);
    repository = text.slice(firstSlash + 1);
    validateRegistry(input, registry.toLowerCase());
  } else {
    registry = options.defaultRegistry ?? DOCKER_HUB;
    repository = firstSlash >= 0 ? text : `${DEFAULT_NAMESPACE}/${text}`;
  }
  registry = normaliseRegistry(registry);
  repository = repository.toLowerCase();
  // Docker Hub keeps official single-name images under "library/".
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  validateRepository(input, repository);

  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  const name = `${registry}/${repository}`;
  const canonical = `${name}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
  return {
    registry,
    host: registry === DOCKER_HUB ? DOCKER_HUB_HOST : registry,
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
    canonical,
  };
}

/** What a model ID given by a user pins: a full manifest digest, or a 12-hex short ID to look up. */
export interface ModelIdQuery {
  /** "sha256:<64 hex>" when the input was a full ID. */
  digest?: string;
  /** 12 lower-case hex digits when the input was a short ID (the first 12 hex digits of the digest). */
  short?: string;
}

/**
 * Recognises the ID forms Docker Model Runner accepts in place of a name: 12-hex short IDs,
 * 64-hex and "sha256:<64hex>". Returns undefined for anything else (then it is a name).
 */
export function parseModelId(input: string): ModelIdQuery | undefined {
  const text = input.trim().toLowerCase();
  if (/^[a-f0-9]{12}$/.test(text)) return { short: text };
  if (/^[a-f0-9]{64}$/.test(text)) return { digest: `sha256:${text}` };
  if (DIGEST.test(text)) return { digest: text };
  return undefined;
}

/** Splits "host:port" / "[::1]:port" into its host. */
function hostOf(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  const colon = registry.lastIndexOf(':');
  return colon >= 0 && registry.indexOf(':') === colon ? registry.slice(0, colon) : registry;
}

/**
 * Whether a registry is reached over plain HTTP: loopback hosts always (nothing to intercept
 * there), and those the operator listed. A listed entry without a port matches every port.
 */
export function usesPlainHttp(registry: string, insecureRegistries: readonly string[] = []): boolean {
  const lower = registry.toLowerCase();
  const host = hostOf(lower);
  if (host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  return insecureRegistries.some((entry) => {
    const e = entry.trim().toLowerCase().replace(/^https?:\/\//, '').replace(/\/+$/, '');
    return e === lower || e === host;
  });
}
