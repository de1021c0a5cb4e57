/**
 * Which llama.cpp binaries a Worker ended up with, for its load info: the build type
 * node-llama-cpp reports and the ggml CPU variant actually mapped into the process. The prebuilt
 * binaries carry one libggml-cpu-<variant>.so per x86 feature level and ggml picks one at run time,
 * so only the loaded file tells which kernels run.
 */
import { readFileSync } from 'node:fs';
import type { NativeBuildChoice } from './native-build.js';

export type BuildType = 'localBuild' | 'prebuilt';

export interface BinaryInfo {
  build: BuildType;
  /** e.g. 'sapphirerapids' or 'haswell' for a prebuilt variant, 'native' for a local -march=native build; unset when unknown. */
  cpuVariant?: string;
  /** Set when the decision asked for the local build but node-llama-cpp loaded the prebuilt binaries. */
  fallbackReason?: string;
}

/** The variant named by a mapped libggml-cpu*.so in a /proc/<pid>/maps text; 'native' for the suffix-less library of a local build. */
export function cpuVariantFromMaps(maps: string, build: BuildType): string | undefined {
  for (const line of maps.split('\n')) {
    const match = /\/libggml-cpu(?:-([\w.]+?))?\.so\b/.exec(line);
    if (!match) continue;
    if (match[1]) return match[1];
    return build === 'localBuild' ? 'native' : 'generic';
  }
  return undefined;
}

/** Reads this process's mappings (Linux only; elsewhere the variant stays unknown). */
export function loadedCpuVariant(build: BuildType): string | undefined {
  try {
    return cpuVariantFromMaps(readFileSync('/proc/self/maps', 'utf8'), build);
  } catch {
    return undefined;
  }
}

/** Compares what was asked for with what loaded. */
export function describeBinary(choice: NativeBuildChoice, build: BuildType, cpuVariant: string | undefined): BinaryInfo {
  const info: BinaryInfo = { build, ...(cpuVariant === undefined ? {} : { cpuVariant }) };
  if (choice.use === 'local' && build !== 'localBuild') {
    info.fallbackReason = 'the local llama.cpp build chosen by make build did not load (missing after a reinstall, or broken); using the prebuilt binaries';
  }
  return info;
}
