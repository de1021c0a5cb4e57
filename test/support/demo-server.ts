/**
 * The set-up most end-to-end tests share: a store holding the generated demo model (ai/demo),
 * filled before any server opens it, and the compiled server started on it. The store lives in the
 * server's own temp directory, so the server's dispose() removes everything the test made there.
 *
 *   const { server } = await startDemoServer({ args: ['--threads', '1'] });
 *   ... server.request('/engines/v1/chat/completions', { body: { model: 'ai/demo', ... } }) ...
 *   assert.equal(await server.dispose(), 0);
 */
import { runCliOk, type ServerProcess, startServer } from './server-harness.js';

export interface DemoServerOptions {
  /** Extra `serve` flags, such as ['--port', '0', '--threads', '1']. Defaults to none. */
  args?: string[];
  /** Extra environment variables for the server process. Defaults to none. */
  env?: Record<string, string>;
  /** Also stores the demo reranker (ai/demo-reranker), as `demo --reranker` does. Defaults to false. */
  reranker?: boolean;
  /**
   * Runs after the demo models are stored and before the server starts: puts more models into
   * `server.modelsPath` or files into `server.dir`. Defaults to nothing more.
   */
  prepare?: (server: ServerProcess) => Promise<void>;
}

export interface DemoServer {
  /** The running server; its dispose() stops it and removes its directory, store included. */
  server: ServerProcess;
  /** The demo model's ID (sha256:...), which `demo` prints: the same on every run. */
  demoId: string;
}

/** A store directory that already holds ai/demo, written before any server opens it; resolves with its ID. */
export async function storeWithDemo(modelsPath: string): Promise<string> {
  const { stdout } = await runCliOk(['demo', '--models-path', modelsPath]);
  return stdout.trim();
}

/** Starts the compiled server in a fresh temp directory whose store holds the demo model. */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  let demoId = '';
  const server = await startServer({ args: options.args, env: options.env }, async (fresh) => {
    demoId = await storeWithDemo(fresh.modelsPath);
    if (options.reranker) await runCliOk(['demo', '--reranker', '--models-path', fresh.modelsPath]);
    await options.prepare?.(fresh);
  });
  return { server, demoId };
}
