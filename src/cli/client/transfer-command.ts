/** The one shape of `pull MODEL` and `push MODEL`: they differ only in wording and in the transfer they start. */
import { connect, parseCommandArgs, usageError } from './args.js';
import type { ModelRunnerClient } from './client.js';
import type { ProgressMessage } from './progress-lines.js';

export interface TransferCommand {
  /** The command's name, as the usage error says it ("pull needs exactly one MODEL"). */
  name: string;
  usage: string;
  /** Starts the transfer and resolves with its success message once the progress stream ends. */
  run(client: ModelRunnerClient, model: string): Promise<ProgressMessage>;
}

/** Parses `argv` (exactly one MODEL plus the connection flags), runs the transfer and prints its success message. */
export async function runTransferCommand(argv: string[], command: TransferCommand): Promise<void> {
  const args = parseCommandArgs(argv, {}, command.usage);
  if (!args) return;
  if (args.positionals.length !== 1) throw usageError(`${command.name} needs exactly one MODEL`, command.usage);
  const success = await command.run(connect(args.values), args.positionals[0]!);
  process.stdout.write(`${success.message}\n`);
}
