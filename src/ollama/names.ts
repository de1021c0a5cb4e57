/**
 * Model names as Ollama clients show them. Docker stores fully qualified tags
 * ("docker.io/ai/smollm2:latest"); Ollama lists "smollm2:latest". We strip the default registry
 * and the default `ai/` namespace, and nothing else: the tag stays (Ollama always shows it), as
 * do other registries and namespaces, so every displayed name still resolves to the same model
 * when sent back ("smollm2:latest" normalises to "docker.io/ai/smollm2:latest").
 */

const DEFAULT_REGISTRY_PREFIXES = ['docker.io/', 'index.docker.io/', 'registry-1.docker.io/'];
const DEFAULT_NAMESPACE_PREFIX = 'ai/';

export function displayName(reference: string): string {
  let name = reference.trim();
  for (const prefix of DEFAULT_REGISTRY_PREFIXES) {
    if (name.startsWith(prefix)) {
      name = name.slice(prefix.length);
      break;
    }
  }
  if (name.startsWith(DEFAULT_NAMESPACE_PREFIX)) name = name.slice(DEFAULT_NAMESPACE_PREFIX.length);
  return hasTagOrDigest(name) ? name : `${name}:latest`;
}

/** A tag separator is a ':' after the last '/'; a digest reference holds '@'. */
function hasTagOrDigest(name: string): boolean {
  return name.includes('@') || name.lastIndexOf(':') > name.lastIndexOf('/');
}

/** Ollama's `digest` is the bare hex of the model ID. */
export function digestHex(id: string): string {
  return id.startsWith('sha256:') ? id.slice('sha256:'.length) : id;
}
