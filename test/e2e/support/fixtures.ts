/** Model files and artifacts for the end-to-end tests, made with the shipped CLI rather than library calls. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { runCliOk } from '../../support/server-harness.js';

/** Writes a tiny random-weight GGUF (64-wide, 320-token vocabulary); a seed gives different weights, so a different model ID. */
export async function generateTinyGguf(dir: string, seed: number): Promise<string> {
  const file = path.join(dir, `tiny-${seed}.gguf`);
  await runCliOk(['generate-model', '--preset', 'tiny', '--type', 'q8_0', '--seed', String(seed), '--out', file]);
  return file;
}

/** Packages a GGUF and pushes it to `reference`'s registry; credentials come from `env` (DOCKER_USERNAME/DOCKER_PASSWORD, for MODEL_RUNNER_CREDENTIALS_REGISTRY). */
export async function packageAndPush(ggufPath: string, reference: string, env: Record<string, string> = {}): Promise<void> {
  await runCliOk(['package', '--gguf', ggufPath, '--push', reference], env);
}

/** Packages a GGUF into a store that no server holds, tagged `reference`. */
export async function packageIntoStore(ggufPath: string, modelsPath: string, reference: string): Promise<void> {
  await runCliOk(['package', '--gguf', ggufPath, '--models-path', modelsPath, reference]);
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

export function sha256OfBytes(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A multipart/form-data body with text fields and one file field named "file". */
export function multipartBody(fields: Record<string, string>, file: { name: string; bytes: Buffer }): { contentType: string; body: Buffer } {
  const boundary = `----model-runner-e2e-${process.pid}-${Date.now()}`;
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${value}\r\n`));
  }
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
  parts.push(file.bytes, Buffer.from(`\r\n--${boundary}--\r\n`));
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(parts) };
}
