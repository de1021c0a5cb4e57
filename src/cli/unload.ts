import { connect, parseCommandArgs, usageError } from './client/args.js';

const USAGE = `Usage: model-runner unload MODEL... | --all

Unloads idle models from memory (they stay in the store). Models serving a request stay loaded.

Options:
  --all           Unload every idle model
`;

/** `unload MODEL... | --all`: POST /engines/unload. */
export async function unloadCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, { all: { type: 'boolean' } }, USAGE);
  if (!args) return;
  const all = Boolean(args.values.all);
  if (all === (args.positionals.length > 0)) throw usageError('unload needs either MODEL names or --all', USAGE);
  const answer = await connect(args.values).json<{ unloaded_runners?: number }>('/engines/unload', {
    method: 'POST',
    json: { all, models: args.positionals },
  });
  const count = answer?.unloaded_runners ?? 0;
  process.stdout.write(`Unloaded ${count} model${count === 1 ? '' : 's'}.\n`);
}
