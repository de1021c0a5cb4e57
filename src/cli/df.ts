import { formatDecimalSize } from '../util/units.js';
import { connect, parseCommandArgs } from './client/args.js';
import { formatTable } from './client/display.js';

const USAGE = `Usage: model-runner df [--json]

Shows the disk space used by the model store and by the inference backend.

Options:
  --json          Print the server's JSON (GET /engines/df)
`;

interface DfJson {
  models_disk_usage: number;
  default_backend_disk_usage: number;
}

/** `df`: GET /engines/df as a two-row table. */
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
}
