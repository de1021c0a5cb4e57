/**
 * The prompt cache that survives an unload. When a model unloads, the KV state of its most
 * valuable sequences (sequencesToSave) is written to the cache directory, one file per token
 * prefix under the model's own directory, named by prefixStateKey(model, build, tokens). When the
 * model loads again, those files are listed, and a request whose prompt shares a long enough
 * prefix with one gets that state loaded into its sequence before the prompt cache
 * (prompt-cache.ts) keeps the shared part and evaluates the rest.
 *
 * llama.cpp trusts a state file completely (a malformed one can abort the process), so a file
 * reaches it only after its trailer (prefix-state-file.ts), key and checksum have been checked
 * (the checksum at the restore, unless this engine wrote or restored that very file), through a
 * private hard link that a concurrent save or eviction cannot change underneath.
 * While the model is loaded, the same files take the sequences that go idle in a unified KV cache
 * (park, called through park-idle.ts), and the same matching restores them.
 * Nothing here throws to its caller: a cache that fails costs a prompt evaluation, never a request.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { LlamaContextSequence, Token } from '#node-llama-cpp';
import { fsyncDirectory, tempPathFor } from '../../util/atomic-file.js';
import { isDiskFull, systemErrorText } from '../../util/disk-full.js';
import { sha256File } from '../../util/digest.js';
import type { PromptCacheInit } from '../protocol.js';
import type { LoadedModel, LogSink } from './load.js';
import { enforceCacheBound, PREFIX_FILE_SUFFIX } from './prefix-cache-bound.js';
import { bestSavedPrefix, isCoveredBy, MIN_PREFIX_TOKENS, sequencesToSave } from './prefix-cache-policy.js';
import { checksumProblem, identityOf, inspectPrefixFile, modelCacheDir, sameIdentity, type ScannedPrefix } from './prefix-scan.js';
import { encodeTrailer, type PrefixStateHeader } from './prefix-state-file.js';
import { PREFIX_STATE_FORMAT, prefixStateKey } from './prefix-state-key.js';

/** A volume with less free than this could not take a state file of any model worth caching. */
const NO_ROOM_BYTES = 1 << 20;

type Entry = ScannedPrefix;

/** What identifies the engine that computed a state: llama.cpp's release, the binaries, backend and CPU variant, and the V cache layout (flash attention). */
export function engineBuildId(loaded: LoadedModel): string {
  return `llama.cpp@${loaded.info.version} ${loaded.info.backend} fa=${loaded.context?.flashAttention === true ? 1 : 0}`;
}

export class SavedPrefixes {
  private readonly modelDir: string;
  private entries: Promise<Entry[]>;
  /** The cache-bound pass that parks started, while it runs. */
  private trimming: Promise<unknown> | undefined;
  /** Token count from which a state was found over the cache's bound, so not parked again. */
  private tooLargeFrom = Infinity;
  /** A park failed on I/O: the rest of this load keeps idle sequences in the KV cache. */
  private parkingFailed = false;

  /**
   * Undefined when the cache is off or the model cannot use it (embeddings, no sequences).
   * `scanned` is startPrefixScan's listing, begun before the model loaded; only the files of
   * this engine build are kept.
   */
  static create(init: PromptCacheInit | undefined, scanned: Promise<ScannedPrefix[]> | undefined, loaded: LoadedModel, log: LogSink): SavedPrefixes | undefined {
    if (!init || !scanned || loaded.sequences.length === 0) return undefined;
    return new SavedPrefixes(init, engineBuildId(loaded), scanned, log);
  }

  private constructor(
    private readonly init: PromptCacheInit,
    private readonly build: string,
    scanned: Promise<ScannedPrefix[]>,
    private readonly log: LogSink,
  ) {
    this.modelDir = modelCacheDir(init);
    // Another build's files are left to the byte bound: that build may run here again.
    this.entries = scanned.then((list) => list.filter((e) => e.header.build === build));
  }

  /**
   * Loads into `seq` the saved prefix that shares the most with `tokens`, when that spares enough
   * evaluation over what `seq` already holds (bestSavedPrefix). Returns the tokens restored.
   */
  async restoreInto(seq: LlamaContextSequence, tokens: readonly Token[]): Promise<number> {
    try {
      const entries = (await this.entries).filter((e) => e.tokens.length <= seq.contextSize);
      if (entries.length === 0) return 0;
      const inMemory = seq.compareContextTokens(tokens as Token[]).firstDifferentIndex;
      const best = bestSavedPrefix(entries, tokens, inMemory);
      return best ? await this.restore(seq, best.prefix) : 0;
    } catch (err) {
      this.log('warn', `prompt cache: a saved prefix was not restored: ${systemErrorText(err)}`);
      return 0;
    }
  }

  /** Saves the sequences worth keeping, then trims the cache to its bound. Run after the last request and before the context is disposed. */
  async saveAll(sequences: readonly LlamaContextSequence[]): Promise<void> {
    const contents = sequences.filter((seq) => !seq.needsCheckpoints).map((seq, id) => ({ id, seq, tokens: seq.contextTokens }));
    const chosen = sequencesToSave(contents);
    if (chosen.length === 0) return;
    const entries = await this.entries;
    let saved = 0;
    let bytes = 0;
    try {
      await fs.mkdir(this.modelDir, { recursive: true });
      for (const { seq, tokens } of chosen) {
        const written = await this.save(seq, tokens, entries, { durable: true });
        if (typeof written !== 'number') continue;
        saved++;
        bytes += written;
      }
    } catch (err) {
      const why = isDiskFull(err) ? 'the disk is full' : systemErrorText(err);
      this.log('warn', `prompt cache: prefixes not saved (${why})`);
    }
    await enforceCacheBound(this.init.dir, this.init.maxBytes);
    if (saved > 0) this.log('info', `prompt cache: saved ${saved} prompt prefix${saved === 1 ? '' : 'es'} (${bytes} bytes)`);
  }

  /**
   * Moves what the idle sequence `seq` holds out of the KV cache: its state goes to a file of the
   * cache (not fsynced: a torn file fails its checksum when a restore checks it, and costs only an
   * evaluation), then its cells are erased. A sequence too short to be worth a file is only
   * erased. Returns false, leaving the cells as they are, when the state could not be kept.
   */
  async park(seq: LlamaContextSequence): Promise<boolean> {
    // llama.cpp cannot save a sequence whose model needs checkpoints (sliding-window or recurrent state).
    if (seq.needsCheckpoints || this.parkingFailed) return false;
    const tokens = seq.contextTokens;
    // A state this long was over the cache's bound before: writing it again would only be thrown away.
    if (tokens.length >= this.tooLargeFrom) return false;
    try {
      if (tokens.length >= MIN_PREFIX_TOKENS) {
        await fs.mkdir(this.modelDir, { recursive: true });
        if ((await this.save(seq, tokens, await this.entries, { durable: false })) === 'not saved') {
          this.tooLargeFrom = tokens.length;
          return false;
        }
        this.trimSoon();
      }
      await seq.clearHistory();
      return true;
    } catch (err) {
      // Every later park would fail the same way (a full disk, a read-only cache) and cost each request a write.
      this.parkingFailed = true;
      this.log('warn', `prompt cache: idle sequences stay in the KV cache until the model reloads: one could not be parked (${isDiskFull(err) ? 'the disk is full' : systemErrorText(err)})`);
      return false;
    }
  }

  /**
   * Writes one sequence's state: temp file, trailer, rename; fsynced when `durable`. Returns the
   * bytes written, 'already saved', or 'not saved' when the state is over the cache's bound.
   */
  private async save(seq: LlamaContextSequence, tokens: readonly Token[], entries: Entry[], { durable }: { durable: boolean }): Promise<number | 'already saved' | 'not saved'> {
    const key = prefixStateKey(this.init.modelId, this.build, tokens);
    const target = path.join(this.modelDir, `${key}${PREFIX_FILE_SUFFIX}`);
    const now = new Date();
    // Already saved (restored from, or saved by another Worker of this model): only its use is new.
    if (await fs.utimes(target, now, now).then(() => true, () => false)) return 'already saved';
    const temp = tempPathFor(target);
    try {
      const { fileSize } = await seq.saveStateToFile(temp);
      const { size } = await fs.stat(temp);
      // A write error that surfaced only when llama.cpp closed the file shows here.
      if (size !== fileSize) throw new Error(`llama.cpp reported ${fileSize} bytes but wrote ${size}`);
      if (fileSize > this.init.maxBytes) {
        await fs.rm(temp, { force: true });
        return 'not saved';
      }
      const { digest } = await sha256File(temp);
      const header: PrefixStateHeader = { format: PREFIX_STATE_FORMAT, model: this.init.modelId, build: this.build, key, tokens: tokens.length, stateBytes: fileSize, sha256: digest.slice('sha256:'.length) };
      const trailer = encodeTrailer(header);
      const handle = await fs.open(temp, 'a');
      try {
        await handle.writeFile(trailer);
        if (durable) await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, target);
      if (durable) await fsyncDirectory(this.modelDir);
      // A saved prefix that this one covers (the same prompt, another reply) is worth no file of its own.
      for (const entry of entries) {
        if (!isCoveredBy(entry.tokens, tokens)) continue;
        await fs.rm(entry.path, { force: true });
        this.forget(entry);
      }
      await this.remember(target, header, tokens);
      return fileSize + trailer.length;
    } catch (err) {
      // llama.cpp reports a failed write without its errno: the volume, looked at before the temp file goes, tells.
      const full = !isDiskFull(err) && (await noRoomLeft(this.modelDir));
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw full ? Object.assign(new Error('no space left on device', { cause: err }), { code: 'ENOSPC' }) : err;
    }
  }

  private async restore(seq: LlamaContextSequence, entry: Entry): Promise<number> {
    const started = performance.now();
    const linked = tempPathFor(entry.path);
    try {
      await fs.link(entry.path, linked);
    } catch {
      // Evicted or replaced since it was listed.
      this.forget(entry);
      return 0;
    }
    try {
      const problem = await this.problemWith(linked, entry);
      if (problem !== undefined) {
        if (await this.discard(entry, linked)) this.log('warn', `prompt cache: removed a corrupt saved prefix (${problem})`);
        return 0;
      }
      try {
        await seq.loadStateFromFile(linked, { acceptRisk: true });
      } catch (err) {
        this.log('warn', `prompt cache: llama.cpp refused a saved prefix, removed it: ${(err as Error).message}`);
        await this.discard(entry, linked);
        return 0;
      }
      const now = new Date();
      if (await fs.utimes(linked, now, now).then(() => true, () => false)) {
        // The link is the file just checked: its new identity needs no checksum at the next restore.
        entry.verified = await identityOf(linked);
      }
      const ms = Math.round(performance.now() - started);
      this.log('info', `prompt cache: restored a saved prefix of ${entry.tokens.length} tokens (${entry.header.stateBytes} bytes) in ${ms} ms`);
      return entry.tokens.length;
    } finally {
      await fs.rm(linked, { force: true }).catch(() => undefined);
    }
  }

  /**
   * Why the file behind `linked` is not the state `entry` describes; undefined when it is. A file
   * this engine wrote or restored, unchanged since, needs no new checksum; any other is checked in full.
   */
  private async problemWith(linked: string, entry: Entry): Promise<string | undefined> {
    const identity = await identityOf(linked);
    if (identity && entry.verified && sameIdentity(identity, entry.verified)) return undefined;
    const inspected = await inspectPrefixFile(linked);
    if (typeof inspected === 'string') return inspected;
    if (inspected.header.key !== entry.header.key) return 'its key changed';
    return checksumProblem(linked, inspected.header);
  }

  /** Removes the file `linked` was made from, unless it is gone or has been replaced since (another Worker's fresh save); true when removed. */
  private async discard(entry: Entry, linked: string): Promise<boolean> {
    this.forget(entry);
    const [current, ours] = await Promise.all([identityOf(entry.path), identityOf(linked)]);
    if (!current || !ours || current.ino !== ours.ino) return false;
    return fs.rm(entry.path, { force: true }).then(() => true, () => false);
  }

  /** Lists a file this Worker just wrote, so that a request may restore it while the model stays loaded; its checksum is the one just computed. */
  private async remember(file: string, header: PrefixStateHeader, tokens: readonly Token[]): Promise<void> {
    const identity = await identityOf(file);
    if (!identity) return;
    const entry: Entry = { path: file, header, tokens: Uint32Array.from(tokens), identity, verified: identity };
    this.entries = this.entries.then((list) => [...list.filter((e) => e.path !== file), entry]);
  }

  /** Keeps the cache within its bound after parks, one pass at a time, off the requests' path. */
  private trimSoon(): void {
    if (this.trimming) return;
    this.trimming = enforceCacheBound(this.init.dir, this.init.maxBytes).finally(() => {
      this.trimming = undefined;
    });
  }

  private forget(entry: Entry): void {
    this.entries = this.entries.then((list) => list.filter((e) => e !== entry));
  }
}

async function noRoomLeft(dir: string): Promise<boolean> {
  const stats = await fs.statfs(dir).catch(() => undefined);
  return stats !== undefined && stats.bavail * stats.bsize < NO_ROOM_BYTES;
}
