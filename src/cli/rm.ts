import { AppError } from '../errors.js';
import { connect, parseCommandArgs, usageError } from './client/args.js';
import { modelPath } from './client/client.js';

const USAGE = `Usage: model-runner rm MODEL... [-f]

Removes models from the server's store. Removing one tag of a model with several tags only
untags it; removing by ID a model that has several tags, or a model serving requests, needs
--force (those requests finish, then the model unloads).

Options:
  -f, --force     Remove even when the model has several tags or is serving requests
`;

type DeleteEntry = { Untagged?: string; Deleted?: string };

/** The lines Docker prints for a DELETE /models/{name} answer. */
export function formatDeleteResult(entries: DeleteEntry[]): string {
  return entries
    .map((entry) => (entry.Untagged !== undefined ? `Untagged: ${entry.Untagged}\n` : entry.Deleted !== undefined ? `Deleted: ${entry.Deleted}\n` : ''))
    .join('');
}

/** `rm MODEL...`: DELETE /models/{name} for each; a failure does not stop the others. */
export async function rmCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, { force: { type: 'boolean', short: 'f' } }, USAGE);
  if (!args) return;
  if (args.positionals.length === 0) throw usageError('rm needs at least one MODEL', USAGE);
  const client = connect(args.values);
  const failures: string[] = [];
  for (const model of args.positionals) {
    try {
      const entries = await client.json<DeleteEntry[]>(modelPath(model), {
        method: 'DELETE',
        query: { force: args.values.force ? 'true' : undefined },
      });
      process.stdout.write(formatDeleteResult(entries ?? []));
    } catch (err) {
      // A server that is not running fails every model the same way: say it once.
      if (err instanceof AppError && err.code === 'unavailable') throw err;
      failures.push(`${model}: ${(err as Error).message}`);
    }
  }
  if (failures.length > 0) throw new AppError('bad_request', `failed to remove ${failures.length === 1 ? 'a model' : `${failures.length} models`}:\n${failures.join('\n')}`);
}
