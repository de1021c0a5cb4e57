/**
 * The directory skeleton and its marker file. layout.json is what tells a store apart from any
 * other directory: purge refuses to empty a directory without it.
 */
import { promises as fs } from 'node:fs';
import { AppError } from '../errors.js';
import { readJsonFile, writeFileAtomic } from '../util/atomic-file.js';
import { LAYOUT_VERSION, type StorePaths } from './paths.js';

/** Creates the directories and layout.json when missing; refuses a layout of another major version. */
export async function ensureLayout(paths: StorePaths): Promise<void> {
  for (const dir of [paths.blobsDir, paths.manifestsDir, paths.bundlesDir]) await fs.mkdir(dir, { recursive: true });
  let layout: unknown;
  try {
    layout = await readJsonFile<unknown>(paths.layoutFile);
  } catch (err) {
    throw new AppError('internal', `store layout file ${paths.layoutFile} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  if (layout === undefined) {
    await writeLayoutFile(paths);
    return;
  }
  const version = (layout as { version?: unknown } | null)?.version;
  if (typeof version !== 'string' || version.split('.')[0] !== LAYOUT_VERSION.split('.')[0]) {
    throw new AppError(
      'unsupported',
      `store layout file ${paths.layoutFile} has version ${JSON.stringify(version)}; only ${LAYOUT_VERSION} is supported`,
    );
  }
}

export async function writeLayoutFile(paths: StorePaths): Promise<void> {
  await writeFileAtomic(paths.layoutFile, JSON.stringify({ version: LAYOUT_VERSION }));
}

export async function hasLayoutFile(paths: StorePaths): Promise<boolean> {
  try {
    return (await fs.stat(paths.layoutFile)).isFile();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
