/**
 * Where the single binary unpacks the files it cannot run from inside itself (node-llama-cpp and
 * its prebuilt backends, our addon, the engine's Worker and child scripts): a per-user cache
 * directory, one folder per build of the binary, named by the hash of what it holds. Two builds
 * never share a folder, so a new binary never runs an older one's files.
 */
import os from 'node:os';
import path from 'node:path';

/** The folder under the user's cache directory that holds every build's files. */
export const CACHE_FOLDER = 'model-runner';

/**
 * The user's cache directory: $XDG_CACHE_HOME when it is an absolute path (the XDG spec ignores
 * relative ones), else ~/.cache with ~ from $HOME or, without it, the password database.
 */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env, homedir: () => string = os.homedir): string {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && path.isAbsolute(xdg)) return xdg;
  const home = env.HOME !== undefined && path.isAbsolute(env.HOME) ? env.HOME : homedir();
  return path.join(home, '.cache');
}

/** The folder of one build's files: <cache>/model-runner/<id>. */
export function runtimeDirFor(id: string, env: NodeJS.ProcessEnv = process.env, homedir: () => string = os.homedir): string {
  return path.join(userCacheDir(env, homedir), CACHE_FOLDER, id);
}

/** True when `file` is an absolute path strictly inside `dir` (after normalising both). */
export function isInside(dir: string, file: string): boolean {
  if (!path.isAbsolute(file)) return false;
  const relative = path.relative(path.resolve(dir), path.resolve(file));
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}
