#!/usr/bin/env bash
# Builds llama-server (plus llama-bench and llama-batched-bench) from the exact llama.cpp source that
# node-llama-cpp ships as a git bundle, configured the way node-llama-cpp builds its prebuilt binaries,
# so the benchmark peer runs the same CPU code as our binding:
#   - GGML_NATIVE=OFF, GGML_BACKEND_DL=ON, GGML_CPU_ALL_VARIANTS=ON: ggml is compiled once per x86
#     feature level (libggml-cpu-haswell.so, -skylakex, -sapphirerapids, ...) and picks the best variant
#     for the CPU at run time, exactly like bins/linux-x64/libggml-cpu-*.so of @node-llama-cpp/linux-x64.
#   - GGML_OPENMP=OFF: ggml's own thread pool, as in the prebuilt binaries (node-llama-cpp's CI mode).
#   - the source patches node-llama-cpp applies before it compiles (llama/patches/*.diff), plus ours in
#     scripts/llama-server-patches/ (a compiler barrier without which GCC 12 builds an AMX kernel that
#     dies with SIGILL; see that patch's header).
# Fully offline: the source is cloned from the local bundle, the web UI download is switched off and
# nothing that fetches (curl, OpenSSL/BoringSSL) is enabled.
#
# Usage: scripts/build-llama-server.sh
# Environment:
#   LLAMA_SRC_DIR    where the source is cloned. Defaults to .cache/llama.cpp-src.
#   LLAMA_BUILD_DIR  the cmake build directory. Defaults to .cache/llama-server-build.
#   BUILD_JOBS       parallel compile jobs. Defaults to the number of online CPUs.
#   BUILD_NICE       niceness of the compiler processes. Defaults to 19, so a build never slows down
#                    measurements running beside it.
# Prints the path of the llama-server binary on its last line of stdout. Skips all work when the build
# directory already holds binaries stamped with the bundle's sha256, the patches, the cmake options and
# the compiler version. A full build took 15 min (910 s) at nice 19 on 2 vCPUs, about half of it for the
# 14 x86 CPU variants of ggml.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

nlc="node_modules/node-llama-cpp"
bundle="$nlc/llama/gitRelease.bundle"
nlc_patches_dir="$nlc/llama/patches"
own_patches_dir="scripts/llama-server-patches"
src="${LLAMA_SRC_DIR:-.cache/llama.cpp-src}"
build="${LLAMA_BUILD_DIR:-.cache/llama-server-build}"
jobs="${BUILD_JOBS:-$(nproc)}"
niceness="${BUILD_NICE:-19}"
targets=(llama-server llama-bench llama-batched-bench)

if [ ! -f "$bundle" ]; then
  echo "build-llama-server: $bundle not found; run 'make install' first" >&2
  exit 1
fi
for tool in git cmake g++ patch; do
  command -v "$tool" >/dev/null || { echo "build-llama-server: '$tool' is required" >&2; exit 1; }
done

# The options node-llama-cpp passes for its prebuilt CPU binaries (dist/bindings/utils/compileLLamaCpp.js
# in CI mode, plus CMAKE_POSITION_INDEPENDENT_CODE from llama/CMakeLists.txt), and what a standalone
# offline llama-server needs on top (no tests, no examples, no web UI download, no TLS).
cmake_options=(
  -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON
  -DGGML_NATIVE=OFF
  -DGGML_BACKEND_DL=ON
  -DGGML_CPU_ALL_VARIANTS=ON
  -DGGML_OPENMP=OFF
  -DGGML_CCACHE=OFF
  -DGGML_METAL=OFF
  -DGGML_BUILD_NUMBER=1
  -DLLAMA_CURL=OFF
  -DLLAMA_OPENSSL=OFF
  -DLLAMA_BUILD_BORINGSSL=OFF
  -DLLAMA_USE_PREBUILT_UI=OFF
  -DLLAMA_BUILD_TESTS=OFF
  -DLLAMA_BUILD_EXAMPLES=OFF
)

bundle_sha="$(sha256sum "$bundle" | cut -d' ' -f1)"
list_patches() {
  [ -d "$1" ] && find "$1" -maxdepth 1 -name '*.diff' -print0 | sort -z
  return 0
}
nlc_patches=() own_patches=()
while IFS= read -r -d '' file; do nlc_patches+=("$file"); done < <(list_patches "$nlc_patches_dir")
while IFS= read -r -d '' file; do own_patches+=("$file"); done < <(list_patches "$own_patches_dir")
patches_sha="$( (cat /dev/null "${nlc_patches[@]}" "${own_patches[@]}") | sha256sum | cut -d' ' -f1)"
compiler="$(g++ -dumpfullversion 2>/dev/null || g++ -dumpversion)"
# The stamp covers source, patches, options and compiler. A new source or patch set is cloned afresh
# (every file is then newer than its object: a full rebuild); new options or compiler wipe the build.
config_text="gcc=$compiler ${cmake_options[*]}"
stamp_text="bundle=$bundle_sha patches=$patches_sha $config_text"
stamp="$build/.build-stamp"
config_stamp="$build/.config-stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_text" ] && [ -x "$build/bin/llama-server" ]; then
  echo "build-llama-server: up to date (bundle ${bundle_sha:0:12}, all CPU variants)" >&2
  echo "$build/bin/llama-server"
  exit 0
fi

start=$(date +%s)
# A source tree from another bundle or patch set must not be reused: clone fresh whenever it differs.
src_stamp="$bundle_sha $patches_sha"
if [ ! -f "$src/.source-stamp" ] || [ "$(cat "$src/.source-stamp")" != "$src_stamp" ]; then
  rm -rf "$src"
  mkdir -p "$(dirname "$src")"
  git -c advice.detachedHead=false clone --quiet "$bundle" "$src"
  for file in "${nlc_patches[@]}"; do
    # node-llama-cpp skips a patch the source already contains, and so does this.
    if patch -p1 --dry-run --forward --silent -d "$src" < "$file" >/dev/null 2>&1; then
      patch -p1 --forward --silent -d "$src" < "$file"
      echo "build-llama-server: applied $file" >&2
    else
      echo "build-llama-server: $file does not apply (already in the source?); skipped" >&2
    fi
  done
  for file in "${own_patches[@]}"; do
    patch -p1 --forward --silent -d "$src" < "$file" \
      || { echo "build-llama-server: $file does not apply to this source" >&2; exit 1; }
    echo "build-llama-server: applied $file" >&2
  done
  echo "$src_stamp" > "$src/.source-stamp"
fi

# Options or compiler changed: old objects and a stale CMakeCache (e.g. -march flags) must not survive.
# Only a directory cmake created is wiped.
if [ -f "$build/CMakeCache.txt" ] && { [ ! -f "$config_stamp" ] || [ "$(cat "$config_stamp")" != "$config_text" ]; }; then
  rm -rf "$build"
fi
mkdir -p "$build"
echo "$config_text" > "$config_stamp"

generator=(-G Ninja)
command -v ninja >/dev/null || generator=(-G "Unix Makefiles")

nice -n "$niceness" cmake -S "$src" -B "$build" "${generator[@]}" "${cmake_options[@]}" >&2
nice -n "$niceness" cmake --build "$build" -j "$jobs" --target "${targets[@]}" >&2

variants=("$build"/bin/libggml-cpu-*.so)
if [ ! -e "${variants[0]}" ]; then
  echo "build-llama-server: no libggml-cpu-*.so variants were built" >&2
  exit 1
fi
echo "$stamp_text" > "$stamp"
echo "build-llama-server: built in $(( $(date +%s) - start )) s with ${#variants[@]} CPU variants" >&2
echo "$build/bin/llama-server"
