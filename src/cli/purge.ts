import { connect, parseCommandArgs } from './client/args.js';
import { confirm } from './client/terminal.js';

const USAGE = `Usage: model-runner purge [-f]

Unloads every idle model and deletes every model in the server's store.

Options:
  -f, --force     Do not ask for confirmation
`;

/** `purge`: POST /engines/unload {all} then DELETE /models/purge, after a confirmation. */
export async function purgeCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, { force: { type: 'boolean', short: 'f' } }, USAGE);
  if (!args) return;
  if (!args.values.force) {
    const sure = await confirm('WARNING! This removes every model from the store. Are you sure you want to continue?');
    if (!sure) {
      process.stderr.write('Purge cancelled.\n');
      return;
    }
  }
  const client = connect(args.values);
  // Loaded models hold their files open; unloading first lets the store delete them.
  await client.json('/engines/unload', { method: 'POST', json: { all: true } });
  await client.text('/models/purge', { method: 'DELETE' });
  process.stdout.write('Model store purged.\n');
}
