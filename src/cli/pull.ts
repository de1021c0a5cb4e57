import { connect, parseCommandArgs, usageError } from './client/args.js';
import { pullModel } from './client/transfer.js';

const USAGE = `Usage: model-runner pull MODEL

Pulls a model from its registry (Docker Hub's ai/ namespace by default) into the server's store.
Progress goes to stderr: a bar per layer on a terminal, plain lines otherwise. Hugging Face
references (hf.co/...) use HF_TOKEN when it is set.
`;

/** `pull MODEL`: POST /models/create and follow its progress stream. */
export async function pullCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, {}, USAGE);
  if (!args) return;
  if (args.positionals.length !== 1) throw usageError('pull needs exactly one MODEL', USAGE);
  const success = await pullModel(connect(args.values), args.positionals[0]!);
  process.stdout.write(`${success.message}\n`);
}
