import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../errors.js';
import { connect, parseCommandArgs, usageError } from './client/args.js';
import { modelPath } from './client/client.js';

const USAGE = `Usage: model-runner export MODEL -o FILE.tar

Writes a model as a tar archive (blobs and manifest) that \`model-runner load\` reads back.
Without -o the archive goes to stdout, unless stdout is a terminal.

Options:
  -o, --output FILE   Where to write the archive
`;

/** `export MODEL -o FILE`: GET /models/{name}/export into a file, written whole or not at all. */
export async function exportCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, { output: { type: 'string', short: 'o' } }, USAGE);
  if (!args) return;
  if (args.positionals.length !== 1) throw usageError('export needs exactly one MODEL', USAGE);
  const output = args.values.output;
  if ((output === undefined || output === '-') && process.stdout.isTTY) {
    throw usageError('refusing to write a tar archive to a terminal: use -o FILE', USAGE);
  }
  const res = await connect(args.values).request(modelPath(args.positionals[0]!, '/export'));
  if (output === undefined || output === '-') {
    await pipeline(res, process.stdout);
    return;
  }
  // A cut connection must not leave a truncated archive under the final name.
  const partial = path.join(path.dirname(path.resolve(output)), `.${path.basename(output)}.partial`);
  try {
    await pipeline(res, createWriteStream(partial));
    if (!res.complete) throw new AppError('upstream', 'the server closed the connection before the archive was complete');
    await fs.rename(partial, output);
  } catch (err) {
    await fs.rm(partial, { force: true });
    throw err;
  }
  process.stderr.write(`Exported ${args.positionals[0]} to ${output}\n`);
}
