/** Pull and push: a POST whose answer is a progress stream, rendered while it lasts. */
import { type ModelRunnerClient, modelPath } from './client.js';
import { followProgress, type ProgressMessage } from './progress-lines.js';
import { ProgressView } from './progress-view.js';

/** Hugging Face references authenticate with HF_TOKEN, which the server forwards as a bearer token. */
export function bearerTokenFor(model: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const isHuggingFace = /^(hf\.co|huggingface\.co)\//i.test(model.trim());
  return isHuggingFace && env.HF_TOKEN ? env.HF_TOKEN : undefined;
}

async function transfer(client: ModelRunnerClient, path: string, body: Record<string, unknown>): Promise<ProgressMessage> {
  // Raw JSON lines: asking for application/json spares the HTML unescaping (handled anyway).
  const res = await client.request(path, { method: 'POST', json: body, headers: { Accept: 'application/json' } });
  const view = new ProgressView({ out: process.stderr, tty: Boolean(process.stderr.isTTY) });
  try {
    return await followProgress(res, (message) => view.update(message));
  } finally {
    view.finish();
  }
}

/** Pulls `model` into the server's store; resolves with the success message. */
export function pullModel(client: ModelRunnerClient, model: string): Promise<ProgressMessage> {
  const token = bearerTokenFor(model);
  return transfer(client, '/models/create', { from: model, ...(token ? { 'bearer-token': token } : {}) });
}

/** Pushes `model` from the server's store to its registry; resolves with the success message. */
export function pushModel(client: ModelRunnerClient, model: string): Promise<ProgressMessage> {
  const token = bearerTokenFor(model);
  return transfer(client, modelPath(model, '/push'), token ? { 'bearer-token': token } : {});
}
