/**
 * Blobs under blobs/sha256: every way bytes become a blob ends in a rename of a fully written,
 * fsynced and verified file, so a blob name always holds exactly the bytes of its digest.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { AppError } from '../errors.js';
import { fsyncDirectory, tempPathFor, writeFileAtomic } from '../util/atomic-file.js';
import { assertSha256Digest, sha256Digest, sha256File } from '../util/digest.js';
import { copyHashed } from './hashing-writer.js';
import { blobFile, partialFile, type StorePaths } from './paths.js';
import type { BlobInfo, StagedBlob } from './types.js';

/** Errors of link(2) after which a copy is the only way to place the file. */
const LINK_FALLBACK_CODES = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK']);

export class BlobStore {
  constructor(private readonly paths: StorePaths) {}

  path(digest: string): string {
    return blobFile(this.paths, digest);
  }

  partialPath(digest: string): string {
    return partialFile(this.paths, digest);
  }

  async size(digest: string): Promise<number | undefined> {
    const file = this.path(digest);
    try {
      const stat = await fs.stat(file);
      return stat.isFile() ? stat.size : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async has(digest: string): Promise<boolean> {
    return (await this.size(digest)) !== undefined;
  }

  async read(digest: string): Promise<Buffer> {
    const file = this.path(digest);
    try {
      return await fs.readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('not_found', `blob ${digest} is not in the store`);
      throw err;
    }
  }

  async write(bytes: Uint8Array, expectedDigest?: string): Promise<string> {
    const digest = sha256Digest(bytes);
    if (expectedDigest !== undefined && assertSha256Digest(expectedDigest) !== digest) {
      throw new AppError('digest_mismatch', `blob bytes hash to ${digest} but ${expectedDigest} was expected`);
    }
    // Content-addressed: a present blob of the right size already holds these bytes.
    if ((await this.size(digest)) !== bytes.byteLength) await writeFileAtomic(this.path(digest), bytes);
    return digest;
  }

  async writeFromStream(source: Readable | AsyncIterable<Uint8Array>, expected: Partial<BlobInfo> = {}): Promise<BlobInfo> {
    const staged = await this.stageFromStream(source, expected);
    try {
      await staged.commit();
    } finally {
      await staged.discard();
    }
    return { digest: staged.digest, size: staged.size };
  }

  /**
   * Streams into a verified temp file that is not a blob yet: commit() makes it one, discard()
   * removes it. A crash before either leaves only a temp file, which open-time cleanup removes.
   */
  async stageFromStream(source: Readable | AsyncIterable<Uint8Array>, expected: Partial<BlobInfo> = {}): Promise<StagedBlob> {
    if (expected.digest !== undefined) assertSha256Digest(expected.digest);
    // The final name is unknown until the bytes are hashed; the temp name is one that open-time cleanup knows.
    const temp = tempPathFor(path.join(this.paths.blobsDir, 'incoming'));
    const handle = await fs.open(temp, 'wx', 0o644);
    let result: BlobInfo;
    try {
      try {
        result = await copyHashed(source as AsyncIterable<Uint8Array>, handle, { maxBytes: expected.size });
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (expected.digest !== undefined && expected.digest !== result.digest) {
        throw new AppError('digest_mismatch', `blob stream hashes to ${result.digest} but ${expected.digest} was expected`);
      }
      if (expected.size !== undefined && expected.size !== result.size) {
        throw new AppError('digest_mismatch', `blob ${result.digest} has ${result.size} bytes but ${expected.size} were expected`);
      }
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw err;
    }
    let settled = false;
    return {
      ...result,
      commit: async () => {
        if (settled) throw new AppError('internal', `staged blob ${result.digest} was already committed or discarded`);
        settled = true;
        await fs.rename(temp, this.path(result.digest));
        await fsyncDirectory(this.paths.blobsDir);
      },
      discard: async () => {
        settled = true;
        // After a commit the temp name is gone and this removes nothing.
        await fs.rm(temp, { force: true });
      },
    };
  }

  async commitPartial(digest: string, options: { verified?: boolean; size?: number } = {}): Promise<void> {
    const partial = this.partialPath(digest);
    let size: number;
    try {
      size = (await fs.stat(partial)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // A concurrent commit of the same digest may have won the rename.
      if (await this.has(digest)) return;
      throw new AppError('not_found', `no partial download of ${digest} in the store`);
    }
    if (options.size !== undefined && size !== options.size) {
      await fs.rm(partial, { force: true });
      throw new AppError('digest_mismatch', `partial download of ${digest} has ${size} bytes but ${options.size} were expected; it was deleted`);
    }
    if (!options.verified) {
      const actual = await sha256File(partial);
      if (actual.digest !== digest) {
        await fs.rm(partial, { force: true });
        throw new AppError('digest_mismatch', `partial download hashes to ${actual.digest} but ${digest} was expected; it was deleted`);
      }
    }
    await fsyncFile(partial);
    try {
      await fs.rename(partial, this.path(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !(await this.has(digest))) throw err;
    }
    await fsyncDirectory(this.paths.blobsDir);
  }

  async link(digest: string, destination: string): Promise<void> {
    const source = this.path(digest);
    if (!(await this.has(digest))) throw new AppError('not_found', `blob ${digest} is not in the store`);
    await fs.mkdir(path.dirname(destination), { recursive: true });
    const temp = tempPathFor(destination);
    try {
      try {
        await fs.link(source, temp);
      } catch (err) {
        if (!LINK_FALLBACK_CODES.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
        await fs.copyFile(source, temp);
        await fsyncFile(temp);
      }
      await fs.rename(temp, destination);
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw err;
    }
    await fsyncDirectory(path.dirname(destination));
  }

  async remove(digest: string): Promise<void> {
    await fs.rm(this.path(digest), { force: true });
  }
}

async function fsyncFile(file: string): Promise<void> {
  const handle = await fs.open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
