#!/usr/bin/env bash
# Compiles node-llama-cpp's native addon on this machine from the llama.cpp source it ships as a
# git bundle (no network: "Cloning (local bundle)"), with -march=native and OpenMP. It removes the
# ~300 ms binary-test fork that every getLlama() call (one per model Worker) pays. Whether it is
# faster depends on the CPU: on an AMD Zen 4 VM it doubled F16 prompt speed; on an Intel VM with
# AMX it was about 2x slower than the prebuilt CPU variant. Hence an opt-in target (`make native`).
#
# Usage: scripts/build-native-engine.sh
# Environment:
#   NATIVE_ENGINE=off   skip the build and keep the prebuilt binaries.
# Always exits 0: when a tool is missing or the build fails it says why and the prebuilt
# binaries stay in use. Skips the build when node-llama-cpp already loads a local build.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { echo "build-native-engine: $*" >&2; }

if [ "${NATIVE_ENGINE:-on}" = "off" ]; then
  say "NATIVE_ENGINE=off; using the prebuilt binaries"
  exit 0
fi
for tool in cmake g++ git; do
  if ! command -v "$tool" >/dev/null; then
    say "'$tool' not found; using the prebuilt binaries"
    exit 0
  fi
done
if [ ! -f node_modules/node-llama-cpp/llama/gitRelease.bundle ]; then
  say "node-llama-cpp's source bundle is missing (run 'make install'); using the prebuilt binaries"
  exit 0
fi

# ggml's AMX kernels (enabled by -march=native on CPUs that report AMX) died with SIGILL on the
# first Q8_0 matmul on the VMs measured here, so they are compiled out. node-llama-cpp names the
# build folder after these options: getLlama() finds this build only when given the same
# `cmakeOptions` (the engine must pass exactly the ones in probe() below).
# The *_RELEASE variables carry them because cmake-js overwrites CMAKE_CXX_FLAGS with its own.
release_flags="-O3 -DNDEBUG -mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
export NODE_LLAMA_CPP_CMAKE_OPTION_CMAKE_C_FLAGS_RELEASE="$release_flags"
export NODE_LLAMA_CPP_CMAKE_OPTION_CMAKE_CXX_FLAGS_RELEASE="$release_flags"

# Which binary node-llama-cpp picks with the options the engine uses (build 'never': load only,
# never compile or download). Prints "localBuild" or "prebuilt". With a GGUF path it also runs a
# short Q8_0 prompt and decode, which is where a miscompiled kernel would crash.
probe() {
  env -u NODE_LLAMA_CPP_CMAKE_OPTION_CMAKE_C_FLAGS_RELEASE -u NODE_LLAMA_CPP_CMAKE_OPTION_CMAKE_CXX_FLAGS_RELEASE \
  node --input-type=module -e '
    import { getLlama, LlamaLogLevel } from "node-llama-cpp";
    const flags = "-O3 -DNDEBUG -mno-amx-tile -mno-amx-int8 -mno-amx-bf16";
    const llama = await getLlama({ gpu: false, build: "never", maxThreads: 1, logLevel: LlamaLogLevel.error, progressLogs: false,
      cmakeOptions: { CMAKE_C_FLAGS_RELEASE: flags, CMAKE_CXX_FLAGS_RELEASE: flags } });
    const file = process.argv[1];
    if (file) {
      const model = await llama.loadModel({ modelPath: file });
      const context = await model.createContext({ contextSize: 256, threads: 1 });
      const sequence = context.getSequence();
      let n = 0;
      for await (const token of sequence.evaluate(model.tokenize("probe the kernels ".repeat(8)))) if (++n >= 4) break;
      await context.dispose();
      await model.dispose();
    }
    console.log(llama.buildType);
    await llama.dispose();
  ' "$@" 2>/dev/null
}

if [ "$(probe)" = "localBuild" ]; then
  say "a local build is already in use"
  exit 0
fi

mkdir -p .cache
log=.cache/build-native-engine.log
start=$(date +%s)
say "compiling node-llama-cpp from its bundled llama.cpp source (a few minutes; log: $log)"
# NODE_LLAMA_CPP_SKIP_DOWNLOAD keeps any fallback path from fetching sources; the bundle is used.
if ! NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npx --no node-llama-cpp source download --gpu false --noUsageExample >"$log" 2>&1; then
  say "the build failed (last lines of $log below); using the prebuilt binaries"
  tail -n 15 "$log" >&2
  exit 0
fi

kind="$(probe)"
say "built in $(( $(date +%s) - start )) s; getLlama() now loads: ${kind:-nothing}"
if [ "$kind" != "localBuild" ]; then
  say "the local build is not picked up; the prebuilt binaries stay in use"
  exit 0
fi

# Run real kernels once: a build that crashes at the first matmul must not replace the prebuilt
# binaries. The model is a generated Q8_0 file with SmolLM2-135M's shapes.
probe_model=.cache/native-probe-q8_0.gguf
if [ ! -s "$probe_model" ]; then
  node --import tsx src/cli.ts generate-model --preset smollm2-135m --type q8_0 --seed 1 --out "$probe_model" >/dev/null 2>&1 || rm -f "$probe_model"
fi
if [ -s "$probe_model" ]; then
  if [ "$(probe "$probe_model")" != "localBuild" ]; then
    say "the local build failed a Q8_0 test run; removing it, the prebuilt binaries stay in use"
    rm -rf node_modules/node-llama-cpp/llama/localBuilds node_modules/node-llama-cpp/llama/lastBuild.json
    exit 0
  fi
  say "the local build passed a Q8_0 test run"
else
  say "could not generate a test model; the local build was not test-run"
fi
exit 0
