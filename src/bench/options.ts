/** Command-line options of `model-runner bench`. */
import { AppError } from '../errors.js';
import { parseDurationMs } from '../util/units.js';
import { DEFAULT_UNIX_BASE, parseEndpoint } from './endpoint.js';
import type { BenchOptions } from './run.js';

export const DEFAULT_URL = `unix:model-runner.sock:${DEFAULT_UNIX_BASE}`;

export const BENCH_USAGE = `Usage: model-runner bench --model NAME [options]

Measures an OpenAI-compatible server with streamed chat completions: time to first token,
per-stream decode speed, prompt speed and aggregate throughput at each concurrency level.

Options:
  --url URL              Where to send requests (default ${DEFAULT_URL}):
                           http://HOST:PORT/BASE       e.g. http://127.0.0.1:8080/v1
                           unix:SOCKET[:BASE]          e.g. unix:/run/model-runner.sock:/engines/llama.cpp/v1
                         BASE is the API root that /chat/completions is appended to; for a socket it
                         defaults to ${DEFAULT_UNIX_BASE}. A socket path may not contain ":/".
  --model NAME           Model of every request (required).
  --concurrency LIST     Comma list of parallel streams, one level each (default 1,2,4,8).
  --requests N           Requests per level (default: 2 x concurrency, at least 4).
  --duration D           Run each level for D (e.g. 30s) instead of --requests.
  --max-tokens N         max_tokens of each request (default 128).
  --prompt TEXT          Send this exact prompt every time (a prompt cache may skip its prefill).
  --prompt-tokens N      Generate a unique prompt of about N tokens per request (default 64);
                         the words-to-tokens ratio is measured with two probe requests first.
  --ignore-eos           Send ignore_eos: true so models generate the full max_tokens.
  --temperature T        Sampling temperature (default: the server's).
  --warmup N             Untimed requests before the first level (default 1).
  --timeout D            Per-request time limit (default 5m).
  --seed N               Seed of the generated prompts (default: random).
  --json                 Print the report as JSON instead of a table.
`;

export interface BenchCliOptions extends BenchOptions {
  json: boolean;
}

function positiveInt(flag: string, raw: string, min = 1): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new AppError('bad_request', `${flag} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

export function parseBenchArgs(argv: string[]): BenchCliOptions {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  const SWITCHES = new Set(['--ignore-eos', '--json']);
  const VALUED = new Set(['--url', '--model', '--concurrency', '--requests', '--duration', '--max-tokens', '--prompt', '--prompt-tokens', '--temperature', '--warmup', '--timeout', '--seed']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (SWITCHES.has(flag)) {
      switches.add(flag);
    } else if (VALUED.has(flag)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new AppError('bad_request', `option ${flag} needs a value`);
      values.set(flag, value);
    } else {
      throw new AppError('bad_request', `unknown option ${arg}\n\n${BENCH_USAGE}`);
    }
  }
  const model = values.get('--model');
  if (!model) throw new AppError('bad_request', `--model is required\n\n${BENCH_USAGE}`);
  if (values.has('--prompt') && values.has('--prompt-tokens')) {
    throw new AppError('bad_request', '--prompt and --prompt-tokens exclude each other');
  }
  const concurrency = (values.get('--concurrency') ?? '1,2,4,8').split(',').map((s) => positiveInt('--concurrency', s.trim()));
  const temperature = values.has('--temperature') ? Number(values.get('--temperature')) : undefined;
  if (temperature !== undefined && !(temperature >= 0)) throw new AppError('bad_request', '--temperature must be a number >= 0');
  const durationMs = values.has('--duration') ? parseDurationMs(values.get('--duration')!, '--duration') : undefined;
  if (durationMs !== undefined && durationMs <= 0) throw new AppError('bad_request', '--duration must be positive');
  const prompt = values.has('--prompt')
    ? { text: values.get('--prompt')! }
    : { tokens: positiveInt('--prompt-tokens', values.get('--prompt-tokens') ?? '64') };
  return {
    endpoint: parseEndpoint(values.get('--url') ?? DEFAULT_URL),
    model,
    concurrency,
    requests: values.has('--requests') ? positiveInt('--requests', values.get('--requests')!) : undefined,
    durationMs,
    maxTokens: positiveInt('--max-tokens', values.get('--max-tokens') ?? '128'),
    prompt,
    ignoreEos: switches.has('--ignore-eos'),
    temperature,
    warmup: positiveInt('--warmup', values.get('--warmup') ?? '1', 0),
    timeoutMs: parseDurationMs(values.get('--timeout') ?? '5m', '--timeout'),
    seed: values.has('--seed') ? positiveInt('--seed', values.get('--seed')!, 0) : Math.floor(Math.random() * 2 ** 31),
    json: switches.has('--json'),
  };
}
