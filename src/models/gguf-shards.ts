/**
 * Sharded GGUF files as llama.cpp's gguf-split names them: `<stem>-00001-of-00003.gguf`. llama.cpp
 * finds shards 2..N by that name next to the first, so the packager collects them the same way.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.js';

const SHARD_NAME = /^(.+)-(\d{5})-of-(\d{5})\.gguf$/;

export interface ShardName {
  stem: string;
  index: number;
  count: number;
}

/** Parses a shard's base name; undefined for a file that is not named as a shard. */
export function parseShardName(fileName: string): ShardName | undefined {
  const m = SHARD_NAME.exec(fileName);
  if (!m) return undefined;
  const index = Number(m[2]);
  const count = Number(m[3]);
  if (count < 1 || index < 1 || index > count) return undefined;
  return { stem: m[1]!, index, count };
}

/** `model-00002-of-00005.gguf`: the name llama.cpp expects for shard `index` of `count`. */
export function shardFileName(stem: string, index: number, count: number): string {
  const pad = (n: number) => String(n).padStart(5, '0');
  return `${stem}-${pad(index)}-of-${pad(count)}.gguf`;
}

/**
 * Every shard of the model `file` belongs to, in order; `[file]` for an unsharded file. Any shard
 * may be named. A missing sibling is an error: a partial model would load and then fail in llama.cpp.
 */
export async function discoverShards(file: string): Promise<string[]> {
  const parsed = parseShardName(path.basename(file));
  if (!parsed || parsed.count === 1) return [file];
  const dir = path.dirname(file);
  const shards: string[] = [];
  const missing: string[] = [];
  for (let i = 1; i <= parsed.count; i++) {
    const candidate = path.join(dir, shardFileName(parsed.stem, i, parsed.count));
    try {
      const st = await fs.stat(candidate);
      if (!st.isFile()) missing.push(path.basename(candidate));
    } catch {
      missing.push(path.basename(candidate));
    }
    shards.push(candidate);
  }
  if (missing.length > 0) {
    throw new AppError(
      'bad_request',
      `${file} is shard ${parsed.index} of ${parsed.count}, but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing from ${dir}`,
    );
  }
  return shards;
}
