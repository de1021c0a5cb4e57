import { type BoundedSetting, describeBounds, parseRuntimeInteger } from '../util/runtime-bounds.js';
import { connect, parseCommandArgs, usageError } from './client/args.js';

const USAGE = `Usage: model-runner configure MODEL [--context-size N] [--keep-alive D] [--parallel N] [--mode M] [-- FLAGS...]
       model-runner configure show [MODEL]

Sets how a model is loaded; the server keeps the settings across restarts and applies them at
the model's next load (an idle loaded model is unloaded at once, a busy one refuses).

Options:
  --context-size N   Context size in tokens per sequence
  --keep-alive D     Idle time before unloading: 5m, 1h, 0 (at once), -1 (never)
  --parallel N       Requests served at the same time (sequences)
  --mode M           completion (default), embedding or reranking
  -- FLAGS...        llama.cpp-style runtime flags, e.g. -- --temp 0.7 --threads 4
`;

const CONFIGURE_OPTIONS = {
  'context-size': { type: 'string' },
  'keep-alive': { type: 'string' },
  parallel: { type: 'string' },
  mode: { type: 'string' },
} as const;

/** Held to the same bounds as the server's `_configure`, so the CLI refuses what the server would. */
function boundedInteger(raw: string | undefined, flag: string, setting: BoundedSetting): number | undefined {
  if (raw === undefined) return undefined;
  const n = parseRuntimeInteger(setting, raw);
  if (n === undefined) throw usageError(`${flag} must be ${describeBounds(setting)}, got ${JSON.stringify(raw)}`, USAGE);
  return n;
}

/**
 * Splits off the runtime flags after the first `--` (they belong to the engine, not to us), then
 * builds the POST /engines/_configure body. Returns undefined after printing help.
 */
export function parseConfigureArgs(argv: string[]): { body: Record<string, unknown>; values: { socket?: string; url?: string } } | undefined {
  const separator = argv.indexOf('--');
  const own = separator === -1 ? argv : argv.slice(0, separator);
  const runtimeFlags = separator === -1 ? [] : argv.slice(separator + 1);
  const args = parseCommandArgs(own, CONFIGURE_OPTIONS, USAGE);
  if (!args) return undefined;
  if (args.positionals.length !== 1) throw usageError('configure needs exactly one MODEL', USAGE);
  const { values } = args;
  const mode = values.mode ?? 'completion';
  if (mode !== 'completion' && mode !== 'embedding' && mode !== 'reranking') {
    throw usageError(`--mode must be completion, embedding or reranking, got ${JSON.stringify(mode)}`, USAGE);
  }
  const body: Record<string, unknown> = { model: args.positionals[0], mode };
  const contextSize = boundedInteger(values['context-size'], '--context-size', 'contextSize');
  if (contextSize !== undefined) body['context-size'] = contextSize;
  const parallel = boundedInteger(values.parallel, '--parallel', 'parallel');
  if (parallel !== undefined) body.parallel = parallel;
  if (values['keep-alive'] !== undefined) body.keep_alive = values['keep-alive'];
  if (runtimeFlags.length > 0) body['runtime-flags'] = runtimeFlags;
  if (Object.keys(body).length === 2) throw usageError('configure needs at least one setting to change', USAGE);
  return { body, values: { socket: values.socket, url: values.url } };
}

async function showCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, {}, USAGE);
  if (!args) return;
  if (args.positionals.length > 1) throw usageError('configure show takes at most one MODEL', USAGE);
  const entries = await connect(args.values).json('/engines/_configure', { query: { model: args.positionals[0] } });
  process.stdout.write(`${JSON.stringify(entries ?? [], null, 2)}\n`);
}

/** `configure MODEL ...` (POST /engines/_configure) and `configure show [MODEL]` (GET). */
export async function configureCommand(argv: string[]): Promise<void> {
  if (argv[0] === 'show') return showCommand(argv.slice(1));
  const parsed = parseConfigureArgs(argv);
  if (!parsed) return;
  const model = parsed.body.model as string;
  const answer = await connect(parsed.values).json<{ Config?: Record<string, unknown> }>('/engines/_configure', { method: 'POST', json: parsed.body });
  // Docker's server answers 202 with no body; ours echoes the settings now in force.
  const settings = answer?.Config ? `: ${JSON.stringify(answer.Config)}` : '.';
  process.stdout.write(`Configured ${model}${settings}\n`);
}
