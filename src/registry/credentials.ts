/**
 * Where registry credentials come from, in Docker Model Runner's order: a bearer token sent
 * with the request (handled by the authenticator), explicit username/password (the server
 * passes DOCKER_USERNAME/DOCKER_PASSWORD), then the `auths` map of a docker config.json.
 * Credential helpers (`credsStore`, `credHelpers`) are not run.
 */
import { promises as fs } from 'node:fs';
import { AppError } from '../errors.js';
import { DOCKER_HUB } from './reference.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface CredentialStoreOptions {
  /** Username sent to every registry that asks for credentials. Defaults to none. */
  username?: string;
  /** Password or access token paired with `username`. Defaults to none. */
  password?: string;
  /** Path of a docker config.json whose `auths` map is read on each lookup. Defaults to none (not read). */
  dockerConfigPath?: string;
}

interface DockerConfigAuth {
  auth?: string;
  username?: string;
  password?: string;
}

/** Docker Hub's key in config.json is the v1 index URL; other keys are hosts, optionally with a scheme and path. */
function registryOfConfigKey(key: string): string {
  const host = key
    .trim()
    .toLowerCase()
    .replace(/^[a-z]+:\/\//, '')
    .replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

function decodeEntry(entry: DockerConfigAuth): Credentials | undefined {
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.username !== '') {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/** Reads the credentials for `registry` ("docker.io", "127.0.0.1:5000") from a docker config.json. */
export async function readDockerConfigCredentials(configPath: string, registry: string): Promise<Credentials | undefined> {
  let text: string;
  try {
    text = await fs.readFile(configPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AppError('internal', `cannot read docker config ${configPath}: ${(err as Error).message}`, { cause: err });
  }
  let config: { auths?: Record<string, DockerConfigAuth> };
  try {
    config = JSON.parse(text) as typeof config;
  } catch (err) {
    throw new AppError('bad_request', `docker config ${configPath} is not valid JSON`, { cause: err });
  }
  const wanted = registry.toLowerCase();
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (entry && typeof entry === 'object' && registryOfConfigKey(key) === wanted) {
      const credentials = decodeEntry(entry);
      if (credentials) return credentials;
    }
  }
  return undefined;
}

/** Looks up stored credentials for a registry; the bearer-token source is the caller's. */
export class CredentialStore {
  constructor(private readonly options: CredentialStoreOptions = {}) {}

  async lookup(registry: string): Promise<Credentials | undefined> {
    const { username, password, dockerConfigPath } = this.options;
    if (username !== undefined && username !== '' && password !== undefined) return { username, password };
    if (dockerConfigPath !== undefined) return readDockerConfigCredentials(dockerConfigPath, registry);
    return undefined;
  }
}

export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}
