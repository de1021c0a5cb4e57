/**
 * A GGUF header read before its model is asked for. node-llama-cpp's loadModel starts by parsing
 * the file's header in JavaScript (every token and merge of the vocabulary: 0.14-0.35 s for a
 * 49k-token model on a Zen 4 core, more than half of loadModel), so an engine Worker waiting for
 * its next model (spare-worker.ts) reads the header of the model most likely to come back -- the
 * one just unloaded -- and the load that follows finds it read.
 *
 * node-llama-cpp's readGgufFileInfo consults this module through a hook that its bundle gains at
 * build time (scripts/bundle-node-llama-cpp.ts). One header is kept, handed out once, and only for
 * the same file unchanged (same device, inode, size and modification time) read the way loadModel
 * reads it; anything else is read from the file as before.
 */
import path from 'node:path';
import { readGgufFileInfo, type GgufFileInfo } from '#node-llama-cpp';
import { fileStampOf, sameFile, type FileStamp } from '../../util/file-stamp.js';

const HOOK = Symbol.for('model-runner.gguf-read-ahead');

interface ReadAhead {
  file: string;
  stamp: FileStamp;
  info: Promise<GgufFileInfo>;
}

/** The read started last, keyed by its file, until a load takes it. */
let current: { file: string; read: Promise<ReadAhead> } | undefined;
let served = false;

/**
 * Whether node-llama-cpp asks the hook before reading: its bundle does; its file tree, which the
 * single binary runs, does not, and a header read ahead there would never be used.
 */
const consulted = (readGgufFileInfo as { consultsReadAhead?: boolean }).consultsReadAhead === true;

/**
 * Starts reading `file`'s header, replacing any header read ahead before. Resolves with what was
 * read once it has been (undefined when it could not be, or would not be used: the load reports a
 * file it cannot read with its own error).
 */
export function readAhead(file: string): Promise<GgufFileInfo | undefined> {
  if (!consulted) return Promise.resolve(undefined);
  const resolved = path.resolve(file);
  // readTensorInfo is loadModel's default, said out loud so that this read does not match the hook itself.
  const read = fileStampOf(resolved).then((stamp) => ({ file: resolved, stamp, info: readGgufFileInfo(resolved, { sourceType: 'filesystem', readTensorInfo: true }) }));
  current = { file: resolved, read };
  return read.then((entry) => entry.info).catch(() => undefined);
}

/** Whether a load found its header read ahead (for LoadedInfo). */
export function headerWasReadAhead(): boolean {
  return served;
}

/** Options loadModel passes: where it reads from, and its load's abort signal. */
function readsLikeLoadModel(options: Record<string, unknown> | undefined): boolean {
  return options !== undefined && options.sourceType === 'filesystem' && Object.keys(options).every((key) => key === 'sourceType' || key === 'signal');
}

async function take(pathOrUri: string, options: Record<string, unknown> | undefined): Promise<GgufFileInfo | undefined> {
  const wanted = current;
  if (wanted === undefined || !readsLikeLoadModel(options) || path.resolve(pathOrUri) !== wanted.file) return undefined;
  current = undefined;
  try {
    const entry = await wanted.read;
    if (!sameFile(entry.stamp, await fileStampOf(entry.file))) return undefined;
    const info = await entry.info;
    served = true;
    return info;
  } catch {
    // A file that cannot be read now is the load's to report, with its own error.
    return undefined;
  }
}

(globalThis as Record<symbol, unknown>)[HOOK] = take;
