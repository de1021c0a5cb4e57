/**
 * Argument parsing shared by the client commands: node's parseArgs with the connection flags
 * every command takes (--socket, --url) and -h/--help, turning parse failures into usage errors.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AppError } from '../../errors.js';
import { ModelRunnerClient } from './client.js';
import { exitQuietlyOnClosedStdout } from './stdout.js';
import { resolveTarget } from './target.js';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** Flags of every client command. */
export const CONNECTION_OPTIONS = {
  socket: { type: 'string' },
  url: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionsConfig;

/** The usage lines for the connection flags, appended to each command's own text. */
export const CONNECTION_HELP = `
Connection:
  --socket PATH   Unix socket of the server (MODEL_RUNNER_SOCK; defaults to ./model-runner.sock)
  --url URL       Reach the server over TCP instead, e.g. http://127.0.0.1:12434 (MODEL_RUNNER_HOST_URL)
`;

/**
 * Parses `argv` against the command's options plus the connection flags. Returns undefined after
 * printing `usage` when --help is given; throws a usage error (AppError) for unknown or malformed flags.
 */
export function parseCommandArgs<O extends OptionsConfig>(argv: string[], options: O, usage: string) {
  // Every client command starts here, so this is where a closed stdout is made harmless.
  exitQuietlyOnClosedStdout();
  type Config = { args: string[]; options: typeof CONNECTION_OPTIONS & O; allowPositionals: true; strict: true };
  let parsed: ReturnType<typeof parseArgs<Config>>;
  try {
    parsed = parseArgs<Config>({ args: argv, options: { ...CONNECTION_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new AppError('bad_request', `${(err as Error).message}\n\n${usage}${CONNECTION_HELP}`);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${usage}${CONNECTION_HELP}`);
    return undefined;
  }
  return parsed;
}

/** A usage error: the problem, then the command's usage text. */
export function usageError(problem: string, usage: string): AppError {
  return new AppError('bad_request', `${problem}\n\n${usage}`);
}

/** The client for the target named by the connection flags or the environment. */
export function connect(values: { socket?: string | boolean; url?: string | boolean }): ModelRunnerClient {
  const socket = typeof values.socket === 'string' ? values.socket : undefined;
  const url = typeof values.url === 'string' ? values.url : undefined;
  return new ModelRunnerClient(resolveTarget({ socket, url }));
}
