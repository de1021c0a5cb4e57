import { createReadStream, promises as fs } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { AppError } from '../errors.js';
import { connect, parseCommandArgs, usageError } from './client/args.js';
import { type ModelRunnerClient, modelPath } from './client/client.js';
import { multipartBody } from './client/multipart.js';
import { followProgress } from './client/progress-lines.js';
import { splitTarget } from './tag.js';

const USAGE = `Usage: model-runner load FILE [--tag NAME]

Adds a model to the server's store from a file: a tar archive written by \`export\` (or Docker's
\`docker model package\`), or a bare .gguf file, which the server packages.

Options:
  -t, --tag NAME   Name the loaded model (REPOSITORY[:TAG])
`;

/** GGUF files start with these four bytes; anything else is sent as a tar archive. */
async function isGguf(file: string): Promise<boolean> {
  const handle = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.toString('latin1') === 'GGUF';
  } finally {
    await handle.close();
  }
}

/** Streams the file in the body the server expects for its kind; resolves with the progress response. */
function sendModelFile(client: ModelRunnerClient, file: string, size: number, tag: string | undefined, gguf: boolean): Promise<IncomingMessage> {
  if (!gguf) {
    return client.request('/models/load', {
      method: 'POST',
      body: createReadStream(file),
      headers: { 'Content-Type': 'application/x-tar', 'Content-Length': size, Accept: 'application/json' },
    });
  }
  const body = multipartBody({ tag }, { field: 'file', path: file, size });
  return client.request('/models/load', {
    method: 'POST',
    body: body.stream,
    headers: { 'Content-Type': body.contentType, 'Content-Length': body.length, Accept: 'application/json' },
  });
}

/** `load FILE`: POST /models/load with the tar as application/x-tar, or the GGUF as multipart field `file`. */
export async function loadCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, { tag: { type: 'string', short: 't' } }, USAGE);
  if (!args) return;
  if (args.positionals.length !== 1) throw usageError('load needs exactly one FILE', USAGE);
  const file = args.positionals[0]!;
  const tag = args.values.tag;
  const size = await fs.stat(file).then(
    (stat) => stat.size,
    (err: Error) => {
      throw new AppError('not_found', `cannot read ${file}: ${err.message}`);
    },
  );
  const client = connect(args.values);
  const gguf = await isGguf(file);

  const res = await sendModelFile(client, file, size, gguf ? tag : undefined, gguf);
  const success = await followProgress(res);
  process.stdout.write(`${success.message}${success.id ? `: ${success.id}` : ''}\n`);

  // A tar carries no name (Docker's CLI tags after loading); a GGUF upload was named by the form.
  if (!gguf && tag !== undefined) {
    if (!success.id) throw new AppError('upstream', 'the server did not say which model it loaded, so it cannot be tagged');
    const { repo, tag: version } = splitTarget(tag);
    const answer = await client.json<{ message?: string }>(modelPath(success.id, '/tag'), { method: 'POST', query: { repo, tag: version } });
    process.stdout.write(`${answer?.message ?? `Model tagged successfully with "${repo}:${version}"`}\n`);
  }
}
