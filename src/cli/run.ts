import { AppError } from '../errors.js';
import { connect, parseCommandArgs, usageError } from './client/args.js';
import { preloadModel, streamChat } from './client/chat.js';
import { type ModelRunnerClient, modelPath } from './client/client.js';
import { runRepl } from './client/repl.js';
import { statusOf } from './client/server-error.js';
import { readAll } from './client/terminal.js';
import { pullModel } from './client/transfer.js';

const USAGE = `Usage: model-runner run MODEL [PROMPT...] [-d]

Chats with a model, pulling it first when the store lacks it.
  With PROMPT: streams the answer to stdout and exits.
  Without PROMPT on a terminal: an interactive chat (/bye leaves).
  Without PROMPT otherwise: reads the prompt from stdin.

Options:
  -d, --detach    Only load the model into memory, then exit
`;

/** Pulls the model when GET /models/{name} says the store does not have it. */
async function ensureModel(client: ModelRunnerClient, model: string): Promise<void> {
  try {
    await client.json(modelPath(model));
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
    process.stderr.write(`Unable to find model '${model}' locally. Pulling from the registry.\n`);
    const success = await pullModel(client, model);
    process.stderr.write(`${success.message}\n`);
  }
}

/** One prompt, one streamed answer, ending with a newline so the shell prompt starts clean. */
async function answerOnce(client: ModelRunnerClient, model: string, prompt: string): Promise<void> {
  let last = '';
  await streamChat(client, model, [{ role: 'user', content: prompt }], {
    onContent: (piece) => {
      last = piece;
      process.stdout.write(piece);
    },
    onReasoning: (piece) => process.stderr.write(piece),
  });
  if (!last.endsWith('\n')) process.stdout.write('\n');
}

/** `run MODEL [PROMPT]`: POST /engines/v1/chat/completions with stream: true. */
export async function runCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, { detach: { type: 'boolean', short: 'd' } }, USAGE);
  if (!args) return;
  const [model, ...words] = args.positionals;
  if (!model) throw usageError('run needs a MODEL', USAGE);
  const client = connect(args.values);
  await ensureModel(client, model);

  if (args.values.detach) {
    await preloadModel(client, model);
    process.stderr.write(`Model ${model} is loaded.\n`);
    return;
  }
  if (words.length > 0) return answerOnce(client, model, words.join(' '));
  if (process.stdin.isTTY) return runRepl({ client, model });
  const prompt = (await readAll()).trim();
  if (prompt === '') throw new AppError('bad_request', 'no prompt: pass PROMPT as an argument or on stdin');
  return answerOnce(client, model, prompt);
}
