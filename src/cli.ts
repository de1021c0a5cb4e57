#!/usr/bin/env node
/** Entry of the one executable: `model-runner <command> [options]`. Commands live in src/cli/. */
import { formatSettingsHelp } from './config.js';
import { isAppError } from './errors.js';
import { VERSION } from './version.js';

type Command = { describe: string; run: (argv: string[]) => Promise<void> };

const COMMANDS: Record<string, Command> = {
  serve: { describe: 'Run the API server', run: async (argv) => (await import('./cli/serve.js')).serveCommand(argv) },
  package: { describe: 'Package a GGUF file as a model, into the store or a registry', run: async (argv) => (await import('./cli/package.js')).packageCommand(argv) },
  demo: { describe: 'Put a tiny generated model into the store as ai/demo', run: async (argv) => (await import('./cli/demo.js')).demoCommand(argv) },
  bench: { describe: 'Measure an OpenAI-compatible server (TTFT, tok/s)', run: async (argv) => (await import('./cli/bench.js')).benchCommand(argv) },
  pull: { describe: 'Pull a model from a registry into the store', run: async (argv) => (await import('./cli/pull.js')).pullCommand(argv) },
  push: { describe: 'Push a model to its registry', run: async (argv) => (await import('./cli/push.js')).pushCommand(argv) },
  ls: { describe: 'List the models in the store', run: async (argv) => (await import('./cli/list.js')).listCommand(argv) },
  list: { describe: 'List the models in the store (same as ls)', run: async (argv) => (await import('./cli/list.js')).listCommand(argv) },
  rm: { describe: 'Remove models from the store', run: async (argv) => (await import('./cli/rm.js')).rmCommand(argv) },
  tag: { describe: 'Give a model another name', run: async (argv) => (await import('./cli/tag.js')).tagCommand(argv) },
  inspect: { describe: "Print a model's details as JSON", run: async (argv) => (await import('./cli/inspect.js')).inspectCommand(argv) },
  run: { describe: 'Chat with a model (one prompt, stdin or interactive)', run: async (argv) => (await import('./cli/run.js')).runCommand(argv) },
  ps: { describe: 'List the models loaded in memory', run: async (argv) => (await import('./cli/ps.js')).psCommand(argv) },
  requests: { describe: 'List the last inference requests per model', run: async (argv) => (await import('./cli/requests.js')).requestsCommand(argv) },
  df: { describe: 'Show disk usage of models and engine', run: async (argv) => (await import('./cli/df.js')).dfCommand(argv) },
  unload: { describe: 'Unload idle models from memory', run: async (argv) => (await import('./cli/unload.js')).unloadCommand(argv) },
  configure: { describe: "Set or show a model's load settings", run: async (argv) => (await import('./cli/configure.js')).configureCommand(argv) },
  status: { describe: 'Say whether the server is running', run: async (argv) => (await import('./cli/status.js')).statusCommand(argv) },
  version: { describe: 'Print client and server versions', run: async (argv) => (await import('./cli/version.js')).versionCommand(argv) },
  export: { describe: 'Write a model as a tar archive', run: async (argv) => (await import('./cli/export.js')).exportCommand(argv) },
  load: { describe: 'Add a model from a tar archive or a GGUF file', run: async (argv) => (await import('./cli/load.js')).loadCommand(argv) },
  purge: { describe: 'Delete every model in the store', run: async (argv) => (await import('./cli/purge.js')).purgeCommand(argv) },
  'generate-model': {
    describe: 'Write a random-weight test model (GGUF)',
    run: async (argv) => (await import('./cli/generate-model.js')).generateModelCommand(argv),
  },
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
