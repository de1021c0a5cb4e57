import { formatDecimalSize } from '../util/units.js';
import { connect, parseCommandArgs } from './client/args.js';
import { displayModelName, formatTable, humanDuration } from './client/display.js';

const USAGE = `Usage: model-runner ps [--json]

Lists the models loaded in memory right now, with their context size, parallel slots, memory and
when they will be unloaded when idle.

Options:
  --json          Print the server's JSON (GET /engines/ps)
`;

/** One GET /engines/ps entry; the fields past Docker's own are optional so older servers still print. */
export interface PsJson {
  backend_name: string;
  model_name: string;
  mode: string;
  context_size?: number;
  parallel?: number;
  memory_bytes?: number;
  in_use?: number | boolean;
  loading?: boolean;
  keep_alive?: string;
  expires_at?: string | null;
}

/** The UNTIL cell: why the model is resident and for how long it stays idle. */
export function untilCell(entry: PsJson, now: number = Date.now()): string {
  if (entry.loading) return 'Loading';
  if (entry.in_use === true || (typeof entry.in_use === 'number' && entry.in_use > 0)) return 'In use';
  if (entry.expires_at) {
    const left = Date.parse(entry.expires_at) - now;
    return Number.isNaN(left) ? '' : left > 0 ? `${humanDuration(left)} from now` : 'Unloading';
  }
  return entry.keep_alive !== undefined && entry.keep_alive.startsWith('-') ? 'Forever' : '';
}

export function formatPsTable(entries: PsJson[], now: number = Date.now()): string {
  const rows = entries.map((entry) => [
    displayModelName(entry.model_name),
    entry.backend_name,
    entry.mode,
    entry.context_size ? String(entry.context_size) : '',
    entry.parallel ? String(entry.parallel) : '',
    entry.memory_bytes ? formatDecimalSize(entry.memory_bytes) : '',
    untilCell(entry, now),
  ]);
  return formatTable(['MODEL NAME', 'BACKEND', 'MODE', 'CONTEXT', 'PARALLEL', 'MEMORY', 'UNTIL'], rows);
}

/** `ps`: GET /engines/ps as a table. */
export async function psCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, { json: { type: 'boolean' } }, USAGE);
  if (!args) return;
  const entries = (await connect(args.values).json<PsJson[]>('/engines/ps')) ?? [];
  process.stdout.write(args.values.json ? `${JSON.stringify(entries, null, 2)}\n` : formatPsTable(entries));
}
