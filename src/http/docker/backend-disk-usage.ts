/**
 * `default_backend_disk_usage` of GET /engines/df: the bytes of node-llama-cpp's prebuilt binary
 * package for this platform (Docker reports its llama.cpp install there). Measured once per
 * process; 0 when the package cannot be found.
 */
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

async function directorySize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await directorySize(full);
    else if (entry.isFile()) total += (await fs.stat(full)).size;
  }
  return total;
}

async function measure(): Promise<number> {
  try {
    const require = createRequire(import.meta.url);
    const entry = require.resolve(`@node-llama-cpp/${process.platform}-${process.arch}`);
    // The entry is <package>/dist/index.js; the package root is two levels up.
    return await directorySize(path.resolve(path.dirname(entry), '..'));
  } catch {
    return 0;
  }
}

let measured: Promise<number> | undefined;

export function nodeLlamaCppDiskUsage(): Promise<number> {
  measured ??= measure();
  return measured;
}
