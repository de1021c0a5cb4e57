import { formatSettingsHelp, loadConfig } from '../config.js';
import { startServer } from '../main.js';

function usage(): string {
  return `Usage: model-runner serve [options]\n\nRuns the API server on its Unix socket (and a TCP port when --port is set) until SIGINT or SIGTERM.\nEvery option can also be set through its environment variable; a flag wins over the variable.\n\nOptions (flag, environment variable):\n${formatSettingsHelp()}\n`;
}

/** `serve`: runs the server until SIGINT/SIGTERM, then drains and exits. */
export async function serveCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage());
    return;
  }
  const config = loadConfig(argv);
  const server = await startServer(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.logger.info('shutting down', { signal });
    // Workers must stop cooperatively before the process exits (a Worker inside native code
    // would abort the process), so exit only after close() has resolved.
    server.close().then(
      () => process.exit(0),
      (err) => {
        server.logger.error('shutdown failed', { error: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
