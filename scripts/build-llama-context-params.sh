#!/usr/bin/env bash
# Builds build/Release/llama_context_params.node, the library that gives node-llama-cpp's contexts
# one KV cache shared by their sequences (native/llama-context-params/). Its headers are those of
# the llama.cpp release node-llama-cpp ships (read from its git bundle, offline), so the parameter
# struct it edits has the layout the engine's binaries were built with. Never fails the build:
# without the library every sequence keeps a cache of its own, as node-llama-cpp makes them.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { echo "llama-context-params: $*" >&2; }
bundle=node_modules/node-llama-cpp/llama/gitRelease.bundle
headers=build/llama-headers
out=build/Release/llama_context_params.node
src=native/llama-context-params
log=.cache/llama-context-params.log
mkdir -p .cache build/Release
[ -f "$bundle" ] || { say "node-llama-cpp's source bundle is missing; sequences keep separate KV caches"; exit 0; }
command -v git >/dev/null || { say "'git' not found; sequences keep separate KV caches"; exit 0; }
key="$( { sha256sum "$bundle" "$src"/*.cc "$src"/*.h "$src/binding.gyp" | cut -d' ' -f1; node -p process.version; } | sha256sum | cut -c1-16)"
if [ -f "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then exit 0; fi
rm -f "$out" "$out.key"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
{
  git init -q "$scratch/repo" &&
  git -C "$scratch/repo" fetch -q "$root/$bundle" HEAD &&
  rm -rf "$headers" && mkdir -p "$headers" &&
  for file in include/llama.h ggml/include/ggml.h ggml/include/ggml-cpu.h ggml/include/ggml-backend.h \
    ggml/include/ggml-alloc.h ggml/include/ggml-opt.h ggml/include/gguf.h; do
    git -C "$scratch/repo" show "FETCH_HEAD:$file" >"$headers/$(basename "$file")" || exit 1
  done
} >"$log" 2>&1 || { say "could not read llama.h from the bundle (see $log); sequences keep separate KV caches"; exit 0; }
# --nodedir as for the peer-credentials addon: the headers of the node that runs, no download.
# npm puts its bundled node-gyp on PATH for package scripts (none is installed on its own).
if ! npm run --silent build:llama-context-params -- "$@" >>"$log" 2>&1; then
  say "the compile failed (see $log); sequences keep separate KV caches"
  exit 0
fi
cp "$src/build/Release/llama_context_params.node" "$out.tmp" && mv "$out.tmp" "$out" && echo "$key" >"$out.key"
