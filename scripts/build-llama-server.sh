#!/usr/bin/env bash
# Builds llama-server (plus llama-bench and llama-batched-bench) from the exact llama.cpp source that
# node-llama-cpp ships as a git bundle, so the benchmark peer runs the same kernels as our binding.
# Fully offline: the source is cloned from the local bundle and the web UI download is switched off.
#
# Usage: scripts/build-llama-server.sh
# Environment:
#   LLAMA_SRC_DIR    where the source is cloned. Defaults to .cache/llama.cpp-src.
#   LLAMA_BUILD_DIR  the cmake build directory. Defaults to .cache/llama-server-build.
#   BUILD_JOBS       parallel compile jobs. Defaults to the number of online CPUs.
#   LLAMA_AMX=on     keep Intel AMX kernels (-march=native enables them on CPUs that report AMX).
#                    Defaults to off: on the VMs measured here ggml's AMX Q8_0 kernel died with SIGILL
#                    (tilezero) although the kernel grants AMX, so the peer would crash on load.
# Prints the path of the llama-server binary on its last line of stdout. Skips all work when the build
# directory already holds binaries stamped with the bundle's sha256 and the same compiler flags.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bundle="node_modules/node-llama-cpp/llama/gitRelease.bundle"
src="${LLAMA_SRC_DIR:-.cache/llama.cpp-src}"
build="${LLAMA_BUILD_DIR:-.cache/llama-server-build}"
jobs="${BUILD_JOBS:-$(nproc)}"
targets=(llama-server llama-bench llama-batched-bench)

if [ ! -f "$bundle" ]; then
  echo "build-llama-server: $bundle not found; run 'make install' first" >&2
  exit 1
fi
for tool in git cmake g++; do
  command -v "$tool" >/dev/null || { echo "build-llama-server: '$tool' is required" >&2; exit 1; }
done

extra_flags=""
if [ "${LLAMA_AMX:-off}" != "on" ]; then
  extra_flags="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
fi

bundle_sha="$(sha256sum "$bundle" | cut -d' ' -f1)"
# The stamp covers the flags too, so switching LLAMA_AMX rebuilds.
sha="$bundle_sha ${extra_flags:-default-flags}"
stamp="$build/.bundle-sha256"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sha" ] && [ -x "$build/bin/llama-server" ]; then
  echo "build-llama-server: up to date (bundle ${bundle_sha:0:12})" >&2
  echo "$build/bin/llama-server"
  exit 0
fi

start=$(date +%s)
# A source tree from another bundle must not be reused: clone fresh whenever the stamp differs.
if [ ! -f "$src/.bundle-sha256" ] || [ "$(cat "$src/.bundle-sha256")" != "$bundle_sha" ]; then
  rm -rf "$src"
  mkdir -p "$(dirname "$src")"
  git -c advice.detachedHead=false clone --quiet "$bundle" "$src"
  echo "$bundle_sha" > "$src/.bundle-sha256"
fi

generator=(-G Ninja)
command -v ninja >/dev/null || generator=(-G "Unix Makefiles")

# LLAMA_USE_PREBUILT_UI=ON (the default) downloads the web UI; LLAMA_CURL would link libcurl for
# model downloads. Neither is wanted for an offline benchmark peer.
cmake -S "$src" -B "$build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=Release \
  -DLLAMA_USE_PREBUILT_UI=OFF \
  -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_EXAMPLES=OFF \
  -DLLAMA_CURL=OFF \
  -DCMAKE_C_FLAGS="$extra_flags" -DCMAKE_CXX_FLAGS="$extra_flags" >&2
cmake --build "$build" -j "$jobs" --target "${targets[@]}" >&2

echo "$sha" > "$stamp"
echo "build-llama-server: built in $(( $(date +%s) - start )) s" >&2
echo "$build/bin/llama-server"
