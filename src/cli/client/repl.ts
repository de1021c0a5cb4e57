/**
 * The interactive chat of `run MODEL` on a terminal: each line is a user turn, the answer streams
 * back, and the conversation is kept so the model sees its history. `/bye` (or Ctrl-D) leaves;
 * Ctrl-C stops the answer being generated, or leaves when none is.
 */
import readline from 'node:readline';
import type { ModelRunnerClient } from './client.js';
import { type ChatMessage, streamChat } from './chat.js';

const HELP = `Commands:
  /bye     Leave
  /clear   Forget the conversation so far
  /?       This help
`;

export interface ReplOptions {
  client: ModelRunnerClient;
  model: string;
  /** Writes reasoning text (shown dimmed). Defaults to stderr. */
  onReasoning?: (text: string) => void;
}

export async function runRepl(options: ReplOptions): Promise<void> {
  const { client, model } = options;
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, prompt: '> ' });
  const history: ChatMessage[] = [];
  let generation: AbortController | undefined;
  rl.on('SIGINT', () => {
    if (generation) generation.abort();
    else rl.close();
  });
  process.stdout.write(`Interactive chat with ${model}. Type /bye to leave, /? for help.\n`);
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text === '/bye') break;
    if (text === '/?' || text === '/help') process.stdout.write(HELP);
    else if (text === '/clear') {
      history.length = 0;
      process.stdout.write('Conversation cleared.\n');
    } else if (text !== '') {
      history.push({ role: 'user', content: text });
      generation = new AbortController();
      try {
        const answer = await streamChat(client, model, history, {
          onContent: (piece) => process.stdout.write(piece),
          onReasoning: options.onReasoning ?? ((piece) => process.stderr.write(`\x1b[2m${piece}\x1b[0m`)),
          signal: generation.signal,
        });
        history.push({ role: 'assistant', content: answer });
      } catch (err) {
        // A failed or stopped turn is dropped from the history so the next one starts clean.
        history.pop();
        if (!generation.signal.aborted) process.stderr.write(`\nerror: ${(err as Error).message}`);
      } finally {
        generation = undefined;
      }
      process.stdout.write('\n');
    }
    rl.prompt();
  }
  rl.close();
}
