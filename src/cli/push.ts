import { pushModel } from './client/transfer.js';
import { runTransferCommand } from './client/transfer-command.js';

const USAGE = `Usage: model-runner push MODEL

Pushes a model from the server's store to the registry its name points at. Credentials are the
server's (DOCKER_USERNAME/DOCKER_PASSWORD or a docker config.json).
`;

/** `push MODEL`: POST /models/{model}/push and follow its progress stream. */
export function pushCommand(argv: string[]): Promise<void> {
  return runTransferCommand(argv, { name: 'push', usage: USAGE, run: pushModel });
}
