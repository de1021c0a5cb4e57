/**
 * How to start the Worker's entry file. Built code (dist/engine/...) runs
 * dist/engine/worker/main.js directly. Source run under tsx (tests, development) cannot pass
 * a .ts entry to `new Worker` (Node loads the entry before `--import` hooks apply), so a small
 * evaluated bootstrap registers tsx's loader in the Worker and then imports the .ts entry.
 */
import { fileURLToPath } from 'node:url';

export interface WorkerScript {
  /** First argument of `new Worker`. */
  entry: URL | string;
  /** True when `entry` is code to evaluate. */
  eval: boolean;
}

export function resolveWorkerScript(): WorkerScript {
  const fromSource = fileURLToPath(import.meta.url).endsWith('.ts');
  if (!fromSource) return { entry: new URL('./worker/main.js', import.meta.url), eval: false };
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const main = new URL('./worker/main.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(main)}); });`;
  return { entry: code, eval: true };
}
