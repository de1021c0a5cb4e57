/** Reading from the user: all of stdin (a piped prompt) and yes/no confirmations. */
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';

/** The whole of a stream as UTF-8 text (a prompt piped into `run`). */
export async function readAll(input: Readable = process.stdin): Promise<string> {
  input.setEncoding('utf8');
  let text = '';
  for await (const chunk of input) text += chunk as string;
  return text;
}

/**
 * Asks a yes/no question on `output` and reads one line from `input`; only "y" or "yes"
 * (any case) is a yes, so an empty answer or a closed stdin declines.
 */
export function confirm(question: string, input: Readable = process.stdin, output: Writable = process.stderr): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input, output, terminal: false });
    let answered = false;
    output.write(`${question} [y/N] `);
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      resolve(/^(y|yes)$/i.test(line.trim()));
    });
    rl.once('close', () => {
      if (!answered) resolve(false);
    });
  });
}
