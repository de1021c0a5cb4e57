import { connect, parseCommandArgs } from './client/args.js';
import { formatModelTable, matchesFilter, type ModelJson, quietIds } from './client/model-table.js';

const USAGE = `Usage: model-runner ls [MODEL] [--json | --openai | -q]

Lists the models in the server's store, one row per tag. MODEL filters by name or ID prefix.

Options:
  --json          Print the server's JSON (GET /models)
  --openai        Print the OpenAI-style list (GET /engines/v1/models)
  -q, --quiet     Print only model IDs
`;

/** `ls` / `list`: GET /models as a table, JSON or IDs. */
export async function listCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(
    argv,
    { json: { type: 'boolean' }, openai: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' } },
    USAGE,
  );
  if (!args) return;
  const client = connect(args.values);
  const filter = args.positionals[0];
  if (args.values.openai) {
    process.stdout.write(`${JSON.stringify(await client.json('/engines/v1/models'), null, 2)}\n`);
    return;
  }
  let models = (await client.json<ModelJson[]>('/models')) ?? [];
  if (filter !== undefined) models = models.filter((model) => matchesFilter(model, filter));
  if (args.values.json) process.stdout.write(`${JSON.stringify(models, null, 2)}\n`);
  else if (args.values.quiet) process.stdout.write(quietIds(models));
  else process.stdout.write(formatModelTable(models));
}
