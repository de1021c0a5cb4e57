/**
 * The benchmark's artifact: one random layer of `bytes` bytes, typed as a GGUF weights layer
 * (pullers never parse layers), generated once and kept under the cache directory with its
 * digest, so that later runs skip the minute it takes to make and hash 500 MB.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface BenchArtifact {
  layerPath: string;
  size: number;
  digest: string;
}

/** Write size while generating: large enough that syscalls do not matter, small enough for memory. */
const GENERATE_BLOCK_BYTES = 16 * 1024 * 1024;

interface ArtifactMeta {
  size: number;
  digest: string;
}

/** Returns the cached layer of `size` bytes in `cacheDir`, generating it if missing. */
export async function ensureArtifact(cacheDir: string, size: number): Promise<BenchArtifact> {
  const layerPath = path.join(cacheDir, `layer-${size}.bin`);
  const metaPath = `${layerPath}.json`;
  const meta = await readMeta(metaPath);
  const stat = await fs.stat(layerPath).catch(() => undefined);
  if (meta && meta.size === size && stat?.size === size) return { layerPath, ...meta };

  await fs.mkdir(cacheDir, { recursive: true });
  process.stderr.write(`bench-pull: generating a ${size}-byte layer in ${layerPath}\n`);
  const hash = createHash('sha256');
  const block = Buffer.allocUnsafe(Math.min(GENERATE_BLOCK_BYTES, Math.max(1, size)));
  // A temporary name first: an interrupted run must not leave a short layer that looks cached.
  const temp = `${layerPath}.tmp`;
  const handle = await fs.open(temp, 'w');
  try {
    for (let written = 0; written < size; ) {
      const n = Math.min(block.length, size - written);
      const part = block.subarray(0, n);
      randomFillSync(part);
      hash.update(part);
      await handle.write(part, 0, n, written);
      written += n;
    }
  } finally {
    await handle.close();
  }
  await fs.rename(temp, layerPath);
  const fresh: ArtifactMeta = { size, digest: `sha256:${hash.digest('hex')}` };
  await fs.writeFile(metaPath, JSON.stringify(fresh));
  return { layerPath, ...fresh };
}

async function readMeta(file: string): Promise<ArtifactMeta | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as ArtifactMeta;
  } catch {
    return undefined;
  }
}
