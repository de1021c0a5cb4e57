/**
 * The environment an engine child process starts with. A model file is the least trusted input
 * the server runs, and a child exists because it may misbehave: it gets the parent's environment
 * (paths, backend switches, test faults) without the secrets the server holds for registries and
 * for its API, which the engine never needs.
 */

/** Names that carry a secret by convention, whatever prefix they have. */
const SECRET_NAME = /(PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH)/i;
/** Registry user names: not secret alone, but no business of the engine's either. */
const IDENTITY_NAMES = new Set(['DOCKER_USERNAME', 'DOCKER_HUB_USER']);

export function engineChildEnv(env: NodeJS.ProcessEnv = process.env, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const kept: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (SECRET_NAME.test(name) || IDENTITY_NAMES.has(name)) continue;
    kept[name] = value;
  }
  return { ...kept, ...extra };
}
