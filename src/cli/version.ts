import { VERSION } from '../version.js';
import { connect, parseCommandArgs } from './client/args.js';

const USAGE = `Usage: model-runner version

Prints the versions of this client and of the server it talks to (exits 1 when the server is not
running, after printing the client's).
`;

/** `version`: the client's version, then GET /version. */
export async function versionCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, {}, USAGE);
  if (!args) return;
  process.stdout.write(`Client:\n Version: ${VERSION}\n`);
  const server = await connect(args.values).json<{ version?: string }>('/version');
  process.stdout.write(`Server:\n Version: ${server?.version ?? 'unknown'}\n`);
}
