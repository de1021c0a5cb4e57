import { connect, parseCommandArgs, usageError } from './client/args.js';
import { pushModel } from './client/transfer.js';

const USAGE = `Usage: model-runner push MODEL

Pushes a model from the server's store to the registry its name points at. Credentials are the
server's (DOCKER_USERNAME/DOCKER_PASSWORD or a docker config.json).
`;

/** `push MODEL`: POST /models/{model}/push and follow its progress stream. */
export async function pushCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, {}, USAGE);
  if (!args) return;
  if (args.positionals.length !== 1) throw usageError('push needs exactly one MODEL', USAGE);
  const success = await pushModel(connect(args.values), args.positionals[0]!);
  process.stdout.write(`${success.message}\n`);
}
