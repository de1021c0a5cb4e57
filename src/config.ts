/**
 * The only reader of process.env and command-line flags. Every setting is one row of
 * SETTINGS: its flag, its environment variable, its default and a description; `--help`
 * prints the table and the README's configuration table is generated from the same rows.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from './errors.js';
import { LOG_LEVELS, type LogLevel } from './log.js';
import { RUNTIME_BOUNDS } from './util/runtime-bounds.js';
import { parseDurationMs } from './util/units.js';

export interface Config {
  socketPath: string;
  socketGroup: string | undefined;
  port: number | undefined;
  host: string;
  modelsPath: string;
  logLevel: LogLevel;
  defaultRegistry: string;
  insecureRegistries: string[];
  credentialsRegistry: string;
  registryStallTimeoutMs: number;
  gpu: 'auto' | 'cuda' | 'vulkan' | 'metal' | 'cpu';
  isolation: 'thread' | 'process';
  spareEngine: boolean;
  kvUnified: boolean;
  threads: number;
  keepAlive: string;
  maxLoadedModels: number;
  memoryBudgetBytes: number | undefined;
  parallel: number;
  maxQueue: number;
  contextSize: number | undefined;
  origins: string[];
  requestHistory: number;
  recordRequestBodies: boolean;
  pullConcurrency: number;
  pullChunkBytes: number | undefined;
  httpProxy: string | undefined;
  httpsProxy: string | undefined;
  noProxy: string | undefined;
  maxUploadBytes: number;
  admissionTimeoutSeconds: number;
  allowedHosts: string[];
  apiKeyFile: string | undefined;
  insecureBind: boolean;
  writeStallTimeoutMs: number;
  promptCacheBytes: number;
  responsesMaxStored: number;
  responsesTtlMs: number;
}

type Parser<T> = (raw: string, name: string) => T;

interface Setting<K extends keyof Config = keyof Config> {
  key: K;
  flag: string;
  env: string;
  default: Config[K];
  /** Shown in --help and the README; says what the default means when it is computed. */
  description: string;
  parse: Parser<Config[K]>;
  /**
   * The default as the README shows it (Markdown), when the value would mislead there: computed
   * from the machine that runs (the README must read the same on every machine), or a byte count
   * that reads better with its unit. Defaults to the value itself, as code.
   */
  defaultText?: string;
  /**
   * Further environment variables for the same setting, read after `env` so that they win when
   * both are set (http_proxy over HTTP_PROXY, as curl and Python read them). Defaults to none.
   */
  envAliases?: string[];
  /**
   * The value a flag given alone (no `=value`) stands for, for switches such as --insecure-bind.
   * Defaults to none: the flag then takes the next argument as its value.
   */
  bareValue?: string;
}

const asString: Parser<string> = (raw) => raw;
const asList: Parser<string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function asInt(min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> {
  return (raw, name) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new AppError('bad_request', `${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    }
    return n;
  };
}

const BOOLEAN_TEXT: Record<string, boolean> = { true: true, '1': true, yes: true, on: true, false: false, '0': false, no: false, off: false };

const asBoolean: Parser<boolean> = (raw, name) => {
  const value = BOOLEAN_TEXT[raw.trim().toLowerCase()];
  if (value === undefined) throw new AppError('bad_request', `${name} must be true or false, got "${raw}"`);
  return value;
};

/**
 * A proxy URL: http://[user:password@]host[:port] (a bare host:port means http). Only its shape
 * is checked here; the registry client reads it. The value may hold a password, so errors never
 * repeat it.
 */
const asProxyUrl: Parser<string | undefined> = (raw, name) => {
  const text = raw.trim();
  if (text === '') return undefined;
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw new AppError('bad_request', `${name} must be a proxy URL such as http://proxy.example.com:3128`);
  }
  if (url.protocol !== 'http:') throw new AppError('bad_request', `${name} must be an http:// proxy URL (a proxy reached over TLS or SOCKS is not supported), got a ${url.protocol.replace(/:$/, '')}:// URL`);
  return text;
};

/** A positive duration such as 60s, 5m or 1500ms (a bare number is seconds), in milliseconds. */
const asPositiveDuration: Parser<number> = (raw, name) => {
  const ms = parseDurationMs(raw, name);
  if (!(ms > 0)) throw new AppError('bad_request', `${name} must be a positive duration such as 60s or 5m, got "${raw}"`);
  return ms;
};

function asOptional<T>(inner: Parser<T>): Parser<T | undefined> {
  return (raw, name) => (raw === '' ? undefined : inner(raw, name));
}

function asEnum<T extends string>(values: readonly T[]): Parser<T> {
  return (raw, name) => {
    if (!(values as readonly string[]).includes(raw)) {
      throw new AppError('bad_request', `${name} must be one of ${values.join(', ')}, got "${raw}"`);
    }
    return raw as T;
  };
}

const asBytes: Parser<number> = (raw, name) => {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?$/i.exec(raw.trim());
  if (!m) throw new AppError('bad_request', `${name} must be a byte size such as 512MiB or 8GB, got "${raw}"`);
  const units: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, ki: 1024, kib: 1024, m: 1e6, mb: 1e6, mi: 2 ** 20, mib: 2 ** 20, g: 1e9, gb: 1e9, gi: 2 ** 30, gib: 2 ** 30, t: 1e12, tb: 1e12, ti: 2 ** 40, tib: 2 ** 40 };
  return Math.round(Number(m[1]) * units[(m[2] ?? '').toLowerCase()]!);
};

/** A positive duration ("30s", "500ms", a bare number of seconds), in milliseconds. */
const asPositiveDurationMs: Parser<number> = (raw, name) => {
  const ms = parseDurationMs(raw, name);
  if (ms < 1) throw new AppError('bad_request', `${name} must be a positive duration such as 30s or 500ms, got "${raw}"`);
  return ms;
};

const CORES = Math.max(1, os.availableParallelism());

/** A byte-size default written once, as text: the value is parsed from it, so the two cannot drift. */
function bytesDefault(text: string): { default: number; defaultText: string } {
  return { default: asBytes(text, 'a byte-size default'), defaultText: `\`${text}\`` };
}

export const DEFAULT_SOCKET = 'model-runner.sock';
/** A client that has read nothing of a streamed response for this long is cut off (see http/drain.ts). */
export const DEFAULT_WRITE_STALL_TIMEOUT_MS = 60_000;
export const DEFAULT_MODELS_PATH = 'models';

function row<K extends keyof Config>(s: Setting<K>): Setting {
  return s as unknown as Setting;
}

export const SETTINGS: Setting[] = [
  row({ key: 'socketPath', flag: '--socket', env: 'MODEL_RUNNER_SOCK', default: DEFAULT_SOCKET, description: 'Unix socket the API listens on.', parse: asString }),
  row({ key: 'socketGroup', flag: '--socket-group', env: 'MODEL_RUNNER_SOCKET_GROUP', default: undefined, description: 'Group (name or gid) whose members may also use the socket: it becomes mode 0660 in that group (0600 when unset).', parse: asOptional(asString) }),
  row({ key: 'port', flag: '--port', env: 'MODEL_RUNNER_PORT', default: undefined, description: 'Also listen on this TCP port (off when unset).', parse: asOptional(asInt(0, 65535)) }),
  row({ key: 'host', flag: '--host', env: 'MODEL_RUNNER_HOST', default: '127.0.0.1', description: 'Address the TCP listener binds.', parse: asString }),
  row({ key: 'allowedHosts', flag: '--allowed-hosts', env: 'MODEL_RUNNER_ALLOWED_HOSTS', default: [], description: 'Extra Host header names the TCP listener answers, against DNS rebinding (comma list; *.example.com matches subdomains, * allows any). Loopback names and the address a client connected to are always allowed.', parse: asList }),
  row({ key: 'apiKeyFile', flag: '--api-key-file', env: 'MODEL_RUNNER_API_KEY_FILE', default: undefined, description: 'File holding the API key TCP clients must send (Authorization: Bearer or x-api-key); MODEL_RUNNER_API_KEY gives the key itself. The Unix socket needs no key.', parse: asOptional(asString) }),
  row({ key: 'insecureBind', flag: '--insecure-bind', env: 'MODEL_RUNNER_INSECURE_BIND', default: false, bareValue: 'true', description: 'Allow listening on a non-loopback --host without an API key.', parse: asBoolean }),
  row({ key: 'modelsPath', flag: '--models-path', env: 'MODELS_PATH', default: DEFAULT_MODELS_PATH, description: 'Model store directory (Docker Model Runner layout).', parse: asString }),
  row({ key: 'logLevel', flag: '--log-level', env: 'LOG_LEVEL', default: 'info', description: `Log level: ${LOG_LEVELS.join(', ')}.`, parse: asEnum(LOG_LEVELS) }),
  row({ key: 'defaultRegistry', flag: '--default-registry', env: 'DEFAULT_REGISTRY', default: 'docker.io', description: 'Registry for references that name none.', parse: asString }),
  row({ key: 'insecureRegistries', flag: '--insecure-registries', env: 'MODEL_RUNNER_INSECURE_REGISTRIES', default: [], description: 'Comma list of registries reached over plain HTTP (loopback always is).', parse: asList }),
  row({ key: 'credentialsRegistry', flag: '--credentials-registry', env: 'MODEL_RUNNER_CREDENTIALS_REGISTRY', default: 'docker.io', description: 'The one registry DOCKER_USERNAME/DOCKER_PASSWORD are sent to; others get only their own docker config.json entry.', parse: asString }),
  row({ key: 'registryStallTimeoutMs', flag: '--registry-stall-timeout', env: 'MODEL_RUNNER_REGISTRY_STALL_TIMEOUT', default: 30_000, defaultText: '`30s`', description: 'A registry response that sends nothing (or under 16 KiB) for this long is abandoned and retried.', parse: asPositiveDurationMs }),
  row({ key: 'gpu', flag: '--gpu', env: 'MODEL_RUNNER_GPU', default: 'auto', description: 'Inference backend: auto, cuda, vulkan, metal or cpu.', parse: asEnum(['auto', 'cuda', 'vulkan', 'metal', 'cpu'] as const) }),
  row({ key: 'spareEngine', flag: '--spare-engine', env: 'MODEL_RUNNER_SPARE_ENGINE', default: true, bareValue: 'true', description: "Keep one engine Worker started ahead of need (node-llama-cpp and its binding loaded, no model), so that a model's cold load skips that part; costs one idle thread's memory. Thread isolation only.", parse: asBoolean }),
  row({ key: 'kvUnified', flag: '--kv-unified', env: 'MODEL_RUNNER_KV_UNIFIED', default: true, bareValue: 'true', description: "One KV cache shared by a model's parallel sequences, as llama-server's slots share one: any request may fill the whole context, and idle sequences cost nothing. Off, each sequence gets a cache of the context size (4 sequences, 4 caches). The default context cap is 8192 shared, 4096 per sequence otherwise.", parse: asBoolean }),
  row({ key: 'isolation', flag: '--isolation', env: 'MODEL_RUNNER_ISOLATION', default: 'thread', description: "Where each model's engine runs: thread (a Worker in the server's process) or process (a child process, so a crash or hang costs only that model).", parse: asEnum(['thread', 'process'] as const) }),
  row({ key: 'threads', flag: '--threads', env: 'MODEL_RUNNER_THREADS', default: CORES, defaultText: 'core count', description: 'CPU threads shared by all loaded models (defaults to the core count); a lone model uses all of them.', parse: asInt(RUNTIME_BOUNDS.threads.min, RUNTIME_BOUNDS.threads.max) }),
  row({ key: 'keepAlive', flag: '--keep-alive', env: 'MODEL_RUNNER_KEEP_ALIVE', default: '5m', description: 'Idle time before a model is unloaded; 0 unloads at once, negative never.', parse: asString }),
  row({ key: 'maxLoadedModels', flag: '--max-loaded-models', env: 'MODEL_RUNNER_MAX_LOADED_MODELS', default: Math.min(CORES, 8), defaultText: 'min(cores, 8)', description: 'Most models loaded at once (defaults to min(cores, 8)).', parse: asInt(1, 64) }),
  row({ key: 'memoryBudgetBytes', flag: '--memory-budget', env: 'MODEL_RUNNER_MEMORY_BUDGET', default: undefined, description: 'Memory loaded models may use (defaults to free RAM/VRAM at load time).', parse: asOptional(asBytes) }),
  // 4 sequences decode together in one batch: +20% (Q8_0) to +35% (F16) aggregate tokens/s over one
  // stream in `make bench`, with single-stream speed unchanged; the cost is 4x the KV cache.
  row({ key: 'parallel', flag: '--parallel', env: 'MODEL_RUNNER_PARALLEL', default: 4, description: 'Parallel sequences per model (requests decoded together in one batch).', parse: asInt(RUNTIME_BOUNDS.parallel.min, RUNTIME_BOUNDS.parallel.max) }),
  row({ key: 'maxQueue', flag: '--max-queue', env: 'MODEL_RUNNER_MAX_QUEUE', default: 64, description: 'Requests that may wait per model before 503.', parse: asInt(0, 100000) }),
  row({ key: 'contextSize', flag: '--context-size', env: 'MODEL_RUNNER_CONTEXT_SIZE', default: undefined, description: "Context size per sequence (defaults to the model's packaged size, capped at 4096).", parse: asOptional(asInt(RUNTIME_BOUNDS.contextSize.min, RUNTIME_BOUNDS.contextSize.max)) }),
  row({ key: 'promptCacheBytes', flag: '--prompt-cache-size', env: 'MODEL_RUNNER_PROMPT_CACHE_SIZE', ...bytesDefault('2GiB'), description: "Disk space for prompt prefixes saved when a model unloads (the KV state of its longest prompts, kept in the store's prompt-cache directory), so that a repeated system prompt or tool preamble is not evaluated again after a reload, and for the conversations idle sequences park there while the model stays loaded; least recently used go first. 0 turns it off (idle conversations then stay in the KV cache).", parse: asBytes }),
  row({ key: 'requestHistory', flag: '--request-history', env: 'MODEL_RUNNER_REQUEST_HISTORY', default: 10, description: 'Inference requests kept per model for GET /engines/requests (model, route, status, token counts, timings); 0 keeps none.', parse: asInt(0, 10000) }),
  row({ key: 'recordRequestBodies', flag: '--record-request-bodies', env: 'MODEL_RUNNER_RECORD_REQUEST_BODIES', default: false, bareValue: 'true', description: 'Also keep the request and response bodies of those requests (64 KiB of each at most; they hold prompts and answers). Headers are never kept.', parse: asBoolean }),
  row({ key: 'origins', flag: '--origins', env: 'DMR_ORIGINS', default: [], description: 'Extra CORS origins (comma list; * allows all).', parse: asList }),
  row({ key: 'pullConcurrency', flag: '--pull-concurrency', env: 'MODEL_RUNNER_PULL_CONCURRENCY', default: 8, description: 'Parallel connections per pull (layers and chunks).', parse: asInt(1, 64) }),
  row({ key: 'httpProxy', flag: '--http-proxy', env: 'HTTP_PROXY', envAliases: ['http_proxy'], default: undefined, description: 'Proxy for registries reached over plain http (http_proxy wins over HTTP_PROXY). Credentials go in the URL (http://user:password@host:port), and are sent to the proxy only; give them through the environment rather than the flag, which other users can see in ps.', parse: asProxyUrl }),
  row({ key: 'httpsProxy', flag: '--https-proxy', env: 'HTTPS_PROXY', envAliases: ['https_proxy'], default: undefined, description: 'Proxy for registries reached over https, through CONNECT tunnels: TLS and its certificate checks stay end to end with the registry (https_proxy wins over HTTPS_PROXY). Must be an http:// URL.', parse: asProxyUrl }),
  row({ key: 'noProxy', flag: '--no-proxy', env: 'NO_PROXY', envAliases: ['no_proxy'], default: undefined, description: 'Hosts reached without a proxy, comma-separated: * for all, a name for it and its subdomains (example.com, .example.com), an IP or CIDR block (10.0.0.0/8), each optionally with :port (no_proxy wins over NO_PROXY). Loopback registries are always reached directly.', parse: asOptional(asString) }),
  row({ key: 'pullChunkBytes', flag: '--pull-chunk-size', env: 'MODEL_RUNNER_PULL_CHUNK_SIZE', default: undefined, defaultText: '(adaptive)', description: 'Cut layers larger than this into parallel ranged chunks of exactly this size. Unset, layers from 16 MiB up are cut to suit the layer and the measured speed of one connection: a fast link keeps one connection, a CDN that caps each connection gets up to --pull-concurrency of them.', parse: asOptional(asBytes) }),
  row({ key: 'maxUploadBytes', flag: '--max-upload', env: 'MODEL_RUNNER_MAX_UPLOAD', ...bytesDefault('64GiB'), description: 'Largest model upload accepted by POST /models/load.', parse: asBytes }),
  row({ key: 'admissionTimeoutSeconds', flag: '--admission-timeout', env: 'MODEL_RUNNER_ADMISSION_TIMEOUT', default: 120, description: 'Seconds a new model file may take to load and decode two tokens in the admission check (a child process, before it first runs in-process); slower files are refused.', parse: asInt(1, 86400) }),
  row({ key: 'writeStallTimeoutMs', flag: '--write-stall-timeout', env: 'MODEL_RUNNER_WRITE_STALL_TIMEOUT', default: DEFAULT_WRITE_STALL_TIMEOUT_MS, defaultText: '`60s`', description: 'How long a streamed response may wait for a client that stopped reading before it is cut and its generation cancelled.', parse: asPositiveDuration }),
  row({ key: 'responsesMaxStored', flag: '--responses-max-stored', env: 'MODEL_RUNNER_RESPONSES_MAX_STORED', default: 1000, description: 'Most Responses API responses kept in memory for GET and previous_response_id; the oldest goes first.', parse: asInt(0, 1_000_000) }),
  row({ key: 'responsesTtlMs', flag: '--responses-ttl', env: 'MODEL_RUNNER_RESPONSES_TTL', default: 3_600_000, defaultText: '`1h`', description: 'How long a stored Responses API response stays retrievable and continuable.', parse: asPositiveDurationMs }),
];

/**
 * Builds the configuration: defaults, then environment, then flags (flags win).
 * Unknown flags are an error so that a typo never silently falls back to a default.
 */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  const config = Object.fromEntries(SETTINGS.map((s) => [s.key, s.default])) as unknown as Config;
  const assign = (s: Setting, raw: string, name: string) => {
    (config as unknown as Record<string, unknown>)[s.key] = s.parse(raw, name);
  };
  for (const s of SETTINGS) {
    for (const name of [s.env, ...(s.envAliases ?? [])]) {
      const raw = env[name];
      if (raw !== undefined) assign(s, raw, name);
    }
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const s = SETTINGS.find((x) => x.flag === flag);
    if (!s) throw new AppError('bad_request', `unknown option ${flag}`);
    const raw = inline ?? s.bareValue ?? argv[++i];
    if (raw === undefined) throw new AppError('bad_request', `option ${flag} needs a value`);
    assign(s, raw, flag);
  }
  config.modelsPath = path.resolve(config.modelsPath);
  config.socketPath = path.resolve(config.socketPath);
  return config;
}

/** The settings table as aligned text, for --help. */
export function formatSettingsHelp(): string {
  const lines = SETTINGS.map((s) => {
    const def = s.defaultText !== undefined ? s.defaultText.replace(/`/g, '') : Array.isArray(s.default) ? s.default.join(',') || '(none)' : s.default === undefined ? '(unset)' : String(s.default);
    return `  ${s.flag.padEnd(24)} ${s.env.padEnd(34)} ${s.description} Default: ${def}`;
  });
  return lines.join('\n');
}

/** A table cell: the pipes and line breaks that would end the cell or the row are escaped. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function markdownDefault(s: Setting): string {
  if (s.defaultText !== undefined) return s.defaultText;
  if (Array.isArray(s.default)) return s.default.length === 0 ? '(none)' : `\`${s.default.join(',')}\``;
  return s.default === undefined ? '(unset)' : `\`${String(s.default)}\``;
}

/**
 * The settings table as Markdown (Flag | Environment | Default | Description), for the README.
 * Depends on nothing but SETTINGS, so it reads the same on every machine.
 */
export function formatSettingsMarkdown(): string {
  const rows = SETTINGS.map((s) => `| \`${s.flag}\` | \`${s.env}\` | ${cell(markdownDefault(s))} | ${cell(s.description)} |`);
  return ['| Flag | Environment | Default | Description |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export interface RegistryCredentials {
  username?: string;
  password?: string;
}

/**
 * Registry credentials from the environment, as Docker Model Runner reads them:
 * DOCKER_USERNAME/DOCKER_PASSWORD, else DOCKER_HUB_USER/DOCKER_HUB_PASSWORD. Kept out of SETTINGS
 * so that secrets are never flags (visible in `ps`) nor printed by --help. They are sent to the
 * `credentialsRegistry` setting's registry only.
 */
export function registryCredentialsFromEnv(env: NodeJS.ProcessEnv = process.env): RegistryCredentials {
  if (env.DOCKER_USERNAME) return { username: env.DOCKER_USERNAME, password: env.DOCKER_PASSWORD ?? '' };
  if (env.DOCKER_HUB_USER) return { username: env.DOCKER_HUB_USER, password: env.DOCKER_HUB_PASSWORD ?? '' };
  return {};
}

/**
 * The API key TCP clients must present: the contents of --api-key-file (trailing whitespace
 * trimmed), else MODEL_RUNNER_API_KEY. The key itself is kept out of SETTINGS, like registry
 * credentials, so that it is never a flag (visible in `ps`) nor printed by --help. Undefined when
 * neither is set; an empty key is an error rather than "no key".
 */
export async function readApiKey(config: Pick<Config, 'apiKeyFile'>, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (config.apiKeyFile !== undefined) {
    const text = await fs.readFile(config.apiKeyFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new AppError('bad_request', `cannot read the API key file ${config.apiKeyFile}: ${err.code ?? err.message}`, { cause: err });
    });
    const key = text.trim();
    if (key === '') throw new AppError('bad_request', `the API key file ${config.apiKeyFile} is empty`);
    return key;
  }
  const key = env.MODEL_RUNNER_API_KEY?.trim();
  return key ? key : undefined;
}
