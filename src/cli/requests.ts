import { connect, parseCommandArgs } from './client/args.js';
import { displayModelName, formatTable } from './client/display.js';

const USAGE = `Usage: model-runner requests [--model NAME] [--json]

Lists the last inference requests the server answered, per model, newest first: when, the route,
the status, the tokens and the time to the first token. The server keeps 10 per model by default
(--request-history) and their bodies only when started with --record-request-bodies.

Options:
  --model NAME    Only this model's requests (the name as the requests gave it)
  --json          Print the server's JSON (GET /engines/requests)
`;

/** One GET /engines/requests entry (see src/http/common/request-history.ts). */
export interface RequestsJson {
  model: string;
  count: number;
  records: Array<{
    timestamp: string;
    method: string;
    url: string;
    status_code: number;
    duration_ms: number;
    ttft_ms?: number;
    usage?: { prompt_tokens: number; completion_tokens: number; cached_tokens?: number };
    client_disconnected?: boolean;
  }>;
}

export function formatRequestsTable(entries: RequestsJson[]): string {
  const rows = entries.flatMap((entry) =>
    entry.records.map((r) => [
      displayModelName(entry.model),
      r.timestamp.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      `${r.method} ${r.url}`,
      r.client_disconnected ? `${r.status_code} (client left)` : String(r.status_code),
      r.usage ? `${r.usage.prompt_tokens}${r.usage.cached_tokens ? ` (${r.usage.cached_tokens} cached)` : ''} / ${r.usage.completion_tokens}` : '',
      r.ttft_ms !== undefined ? `${r.ttft_ms} ms` : '',
      `${r.duration_ms} ms`,
    ]),
  );
  return formatTable(['MODEL', 'TIME', 'REQUEST', 'STATUS', 'TOKENS IN / OUT', 'FIRST TOKEN', 'TOTAL'], rows);
}

/** `requests`: GET /engines/requests as a table. */
export async function requestsCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, { json: { type: 'boolean' }, model: { type: 'string' } }, USAGE);
  if (!args) return;
  const query = typeof args.values.model === 'string' ? `?model=${encodeURIComponent(args.values.model)}` : '';
  const entries = (await connect(args.values).json<RequestsJson[]>(`/engines/requests${query}`)) ?? [];
  process.stdout.write(args.values.json ? `${JSON.stringify(entries, null, 2)}\n` : formatRequestsTable(entries));
}
