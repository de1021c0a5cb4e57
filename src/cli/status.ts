import { connect, parseCommandArgs } from './client/args.js';
import { describeTarget } from './client/target.js';

const USAGE = `Usage: model-runner status [--json]

Says whether the server is running and what its inference engine reports. Exits 1 when it is not
running.

Options:
  --json          Print {"running", "target", "engines"} as JSON
`;

/** `status`: GET / (is it there?) and GET /engines/status (engine state). */
export async function statusCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, { json: { type: 'boolean' } }, USAGE);
  if (!args) return;
  const client = connect(args.values);
  // GET / throws the "not running" error (exit 1) when nothing answers.
  const banner = (await client.text('/')).trim();
  const engines = (await client.json<Record<string, string>>('/engines/status')) ?? {};
  const target = describeTarget(client.target);
  if (args.values.json) {
    process.stdout.write(`${JSON.stringify({ running: true, target, engines }, null, 2)}\n`);
    return;
  }
  const lines = [`${banner || 'model-runner is running'} (${target})`, '', 'Status:'];
  for (const [engine, state] of Object.entries(engines)) lines.push(`${engine}: ${state}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
