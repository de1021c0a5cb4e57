/**
 * How to start one of the engine's child-process entry files (the admission check, an isolated
 * model). Built code forks dist/engine/<name>.js with plain node. Source run under tsx (tests,
 * development) forks the .ts file with tsx's loader registered through --import, because a
 * child does not inherit the parent's loader hooks. In the single binary, fork() runs the binary
 * itself, which runs a script from its runtime folder when given one (src/binary/main.ts).
 */
import { fileURLToPath } from 'node:url';
import { isSingleExecutable } from '../util/single-executable.js';

export interface ChildScript {
  /** The file to fork. */
  modulePath: string;
  /** Node options the child needs before the file loads. */
  execArgv: string[];
}

/**
 * @param relative The entry's path relative to src/engine, without extension ('worker/admission-child').
 */
export function resolveChildScript(relative: string): ChildScript {
  const fromSource = fileURLToPath(import.meta.url).endsWith('.ts');
  const extension = fromSource ? '.ts' : '.js';
  const modulePath = fileURLToPath(new URL(`./${relative}${extension}`, import.meta.url));
  return { modulePath, execArgv: fromSource ? ['--import', import.meta.resolve('tsx')] : [] };
}

/**
 * fork()'s execArgv and env for `script` with extra node `flags`: on the command line under node;
 * through NODE_OPTIONS in the single binary, which takes no flags from its command line.
 */
export function childNodeFlags(
  script: ChildScript,
  flags: string[],
  env: NodeJS.ProcessEnv,
  singleExecutable: boolean = isSingleExecutable(),
): { execArgv: string[]; env: NodeJS.ProcessEnv } {
  const all = [...script.execArgv, ...flags];
  if (!singleExecutable || all.length === 0) return { execArgv: all, env };
  return { execArgv: [], env: { ...env, NODE_OPTIONS: [env.NODE_OPTIONS, ...all].filter((o) => o !== undefined && o !== '').join(' ') } };
}
