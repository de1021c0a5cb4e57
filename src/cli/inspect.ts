import { connect, parseCommandArgs, usageError } from './client/args.js';
import { modelPath } from './client/client.js';

const USAGE = `Usage: model-runner inspect MODEL [--remote | --openai]

Prints a model's details as JSON.

Options:
  -r, --remote    Read the manifest and config from the registry instead of the local store
  --openai        Print the OpenAI model object (GET /engines/v1/models/MODEL)
`;

/** `inspect MODEL`: GET /models/{name}[?remote=true] pretty-printed. */
export async function inspectCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, { remote: { type: 'boolean', short: 'r' }, openai: { type: 'boolean' } }, USAGE);
  if (!args) return;
  if (args.positionals.length !== 1) throw usageError('inspect needs exactly one MODEL', USAGE);
  const model = args.positionals[0]!;
  const client = connect(args.values);
  const value = args.values.openai
    ? await client.json(`/engines/v1${modelPath(model)}`)
    : await client.json(modelPath(model), { query: { remote: args.values.remote ? 'true' : undefined } });
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
