/**
 * How to start one of the engine's child-process entry files (the admission check, an isolated
 * model). Built code forks dist/engine/<name>.js with plain node. Source run under tsx (tests,
 * development) forks the .ts file with tsx's loader registered through --import, because a
 * child does not inherit the parent's loader hooks.
 */
import { fileURLToPath } from 'node:url';

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
