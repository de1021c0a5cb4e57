#!/usr/bin/env node
/** Entry of the one executable: `model-runner <command> [options]`. Commands live in src/cli/. */
import { formatSettingsHelp } from './config.js';
import { isAppError } from './errors.js';
import { VERSION } from './version.js';

type Command = { describe: string; run: (argv: string[]) => Promise<void> };

const COMMANDS: Record<string, Command> = {
  serve: { describe: 'Run the API server', run: async (argv) => (await import('./cli/serve.js')).serveCommand(argv) },
};

function usage(): string {
  const names = Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(12)} ${c.describe}`)
    .join('\n');
  return `model-runner ${VERSION}\n\nUsage: model-runner <command> [options]\n\nCommands:\n${names}\n\nServer options (flag, environment variable):\n${formatSettingsHelp()}\n`;
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return;
  }
  if (name === '--version' || name === 'version' && rest.length === 0 && !COMMANDS.version) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`unknown command "${name}"\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  await command.run(rest);
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`error: ${isAppError(err) ? err.message : (err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});
