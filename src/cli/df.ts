import { formatDecimalSize } from '../util/units.js';
import { connect, parseCommandArgs } from './client/args.js';
import { formatTable } from './client/display.js';

const USAGE = `Usage: model-runner df [--json]

Shows the disk space used by the model store and by the inference backend, the free space of the
store's file system, and what the store could free (partial downloads and blobs no model uses;
\`model-runner purge --partials\` frees them).

Options:
  --json          Print the server's JSON (GET /engines/df)
`;

interface DfJson {
  models_disk_usage: number;
  default_backend_disk_usage: number;
  /** Absent from servers that predate them (and from Docker's). */
  store_free_bytes?: number;
  reclaimable_bytes?: number;
  partial_downloads_bytes?: number;
  unreferenced_blobs_bytes?: number;
}

/** `df`: GET /engines/df as a table, plus the store's free and reclaimable space when the server reports them. */
export async function dfCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, { json: { type: 'boolean' } }, USAGE);
  if (!args) return;
  const usage = await connect(args.values).json<DfJson>('/engines/df');
  if (args.values.json) {
    process.stdout.write(`${JSON.stringify(usage, null, 2)}\n`);
    return;
  }
  const rows = [
    ['Models', formatDecimalSize(usage.models_disk_usage ?? 0)],
    ['Inference engine', formatDecimalSize(usage.default_backend_disk_usage ?? 0)],
  ];
  process.stdout.write(formatTable(['TYPE', 'SIZE'], rows));
  if (usage.store_free_bytes === undefined) return;
  const lines = [`\nFree in the model store's file system: ${formatDecimalSize(usage.store_free_bytes)}\n`];
  const reclaimable = usage.reclaimable_bytes ?? 0;
  lines.push(
    `Reclaimable: ${formatDecimalSize(reclaimable)} (partial downloads ${formatDecimalSize(usage.partial_downloads_bytes ?? 0)}, ` +
      `blobs no model uses ${formatDecimalSize(usage.unreferenced_blobs_bytes ?? 0)})` +
      (reclaimable > 0 ? '; `model-runner purge --partials` frees it\n' : '\n'),
  );
  process.stdout.write(lines.join(''));
}
