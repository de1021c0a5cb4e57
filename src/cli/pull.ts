import { pullModel } from './client/transfer.js';
import { runTransferCommand } from './client/transfer-command.js';

const USAGE = `Usage: model-runner pull MODEL

Pulls a model from its registry (Docker Hub's ai/ namespace by default) into the server's store.
Progress goes to stderr: a bar per layer on a terminal, plain lines otherwise. Hugging Face
references (hf.co/...) use HF_TOKEN when it is set.
`;

/** `pull MODEL`: POST /models/create and follow its progress stream. */
export function pullCommand(argv: string[]): Promise<void> {
  return runTransferCommand(argv, { name: 'pull', usage: USAGE, run: pullModel });
}
