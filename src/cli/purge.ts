import { formatDecimalSize } from '../util/units.js';
import { connect, parseCommandArgs } from './client/args.js';
import { confirm } from './client/terminal.js';

const USAGE = `Usage: model-runner purge [-f] [--partials]

Unloads every idle model and deletes every model in the server's store.

Options:
  -f, --force     Do not ask for confirmation
  --partials      Delete only what interrupted downloads left: partial downloads and blobs no
                  model uses (never those of a download in progress); models stay
`;

interface LeftoverPurgeJson {
  partial_downloads: number;
  unreferenced_blobs: number;
  freed_bytes: number;
}

/** `purge`: POST /engines/unload {all} then DELETE /models/purge, after a confirmation; `--partials`: DELETE /models/purge?partials=true. */
export async function purgeCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, { force: { type: 'boolean', short: 'f' }, partials: { type: 'boolean' } }, USAGE);
  if (!args) return;
  const client = connect(args.values);
  if (args.values.partials) {
    // Nothing a model uses goes, so there is nothing to confirm.
    const purged = await client.json<LeftoverPurgeJson>('/models/purge?partials=true', { method: 'DELETE' });
    process.stdout.write(
      `Freed ${formatDecimalSize(purged.freed_bytes)}: ${purged.partial_downloads} partial download(s), ${purged.unreferenced_blobs} unused blob(s).\n`,
    );
    return;
  }
  if (!args.values.force) {
    const sure = await confirm('WARNING! This removes every model from the store. Are you sure you want to continue?');
    if (!sure) {
      process.stderr.write('Purge cancelled.\n');
      return;
    }
  }
  // Loaded models hold their files open; unloading first lets the store delete them.
  await client.json('/engines/unload', { method: 'POST', json: { all: true } });
  await client.text('/models/purge', { method: 'DELETE' });
  process.stdout.write('Model store purged.\n');
}
