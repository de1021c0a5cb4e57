#!/usr/bin/env bash
# The native step of `make build`: compiles node-llama-cpp's bundled llama.cpp for this CPU
# (offline, from the git bundle node-llama-cpp ships), test-runs it, benchmarks it against the
# prebuilt binaries and records in build/native-engine.json which one the engine loads
# (scripts/native-engine/evaluate.ts decides). A local build removes the ~300 ms binary-test fork
# of every getLlama() and, on some CPUs, runs F16 prompts ~1.85x faster; on others the prebuilt
# per-CPU variants win, which is why the choice is measured, not assumed.
#
# Usage: scripts/build-native-engine.sh [--background]
#   --background  return at once (what `make run` does, so that a first start never waits minutes):
#                 when there is work to do, the same script runs detached at the lowest priority and
#                 the server serves with the prebuilt binaries meanwhile; once the decision file is
#                 written, the server's later loads use it (src/engine/native-build-watch.ts).
# One build at a time: a foreground run waits for a background one (flock on .cache/native-engine/build.lock).
# Environment:
#   NATIVE_ENGINE=off  skip all of it; the prebuilt binaries run.
#   BUILD_NICE         niceness of the compiler. Defaults to 19, so a build never slows down measurements beside it.
# Parallel jobs are node-llama-cpp's choice: all cores up to 4, cores - 2 above.
# Never fails: any problem ends with the prebuilt binaries in use and a one-line reason on stderr.
# Everything the tools print goes to .cache/native-engine/build.log.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

nlc=node_modules/node-llama-cpp
bundle="$nlc/llama/gitRelease.bundle"
# Our source patches: the AMX fix llama-server's build needs as well, and this build's own tuning
# patches (scripts/native-engine/patches/; each one's header says what it changes and why).
shopt -s nullglob
patch_files=(scripts/llama-server-patches/amx-ldtilecfg-barrier.diff scripts/native-engine/patches/*.diff)
shopt -u nullglob
log_dir=.cache/native-engine
log="$log_dir/build.log"
# Lives inside node_modules on purpose: a fresh `npm ci` deletes the build and this stamp together.
stamp="$nlc/llama/localBuilds/model-runner.stamp"
niceness="${BUILD_NICE:-19}"

# The options the build uses; getLlama() finds the build only when given exactly these (they name
# its folder), so evaluate.ts records them for the engine. GGML_NATIVE=ON compiles for this CPU
# (-march=native, AMX included, hence the AMX patch). GGML_OPENMP=OFF keeps ggml's own thread pool, the
# threading the prebuilt binaries and the engine's thread budget were measured with. Naming options
# also keeps a plain `getLlama()` (no options) on the prebuilt binaries.
cmake_options=(GGML_NATIVE=ON GGML_OPENMP=OFF)

background=0
[ "${1:-}" = "--background" ] && background=1
lock="$log_dir/build.lock"

say() { echo "native-engine: $*" >&2; }
mkdir -p "$log_dir"

# Writes the decision file: evaluate.ts measures when a build is ready, or records why not.
evaluate() { node --import tsx scripts/native-engine/evaluate.ts "$@" 2>>"$log"; }
keep_prebuilt() {
  say "$1; using the prebuilt binaries"
  # Without a decision file the engine runs the prebuilt binaries too: never leave a stale "local" behind.
  evaluate --prebuilt "$1" >/dev/null || { rm -f build/native-engine.json; say "could not write build/native-engine.json (see $log)"; }
  exit 0
}

[ "${NATIVE_ENGINE:-on}" = "off" ] && keep_prebuilt "NATIVE_ENGINE=off"
for tool in cmake g++ git; do
  command -v "$tool" >/dev/null || keep_prebuilt "'$tool' not found"
done
[ -f "$bundle" ] || keep_prebuilt "node-llama-cpp's source bundle is missing (run 'make install')"

# The cache key: the source, our patches, the options and the compiler. Any change recompiles.
key="$( { sha256sum "$bundle" "${patch_files[@]}" | cut -d' ' -f1; echo "${cmake_options[*]}"; g++ -dumpfullversion; } | sha256sum | cut -c1-16)"
option_args=()
for option in "${cmake_options[@]}"; do option_args+=(--cmake-option "$option"); done

if [ "$background" = 1 ]; then
  # Nothing to do when this build was compiled (or failed) and measured already.
  if [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$key" ] && { [ "$(sed -n 2p "$stamp")" = "failed" ] || evaluate --check "$key" >/dev/null; }; then
    say "up to date ($(evaluate --summary))"
    exit 0
  fi
  if ! flock -n "$lock" true; then
    say "a build is already running in the background (log: $log)"
    exit 0
  fi
  setsid nohup "$root/scripts/build-native-engine.sh" </dev/null >/dev/null 2>&1 &
  say "compiling llama.cpp for this CPU in the background (log: $log); the prebuilt binaries serve until it is measured, and later loads switch to it if it is faster"
  exit 0
fi
# Held until this script ends: a second run (make build during a background build) waits its turn.
exec 9>"$lock"
flock 9

if [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$key" ]; then
  if [ "$(sed -n 2p "$stamp")" = "failed" ]; then
    keep_prebuilt "the local build failed earlier with the same source and options (log: $log; delete $stamp to retry)"
  fi
  # Built already: measure again only when the decision is missing or was made for another build.
  if evaluate --check "$key" >/dev/null; then
    say "up to date ($(evaluate --summary))"
    exit 0
  fi
else
  start=$(date +%s)
  say "compiling node-llama-cpp's bundled llama.cpp for this CPU (a few minutes; log: $log)"
  : >"$log"
  rm -f "$stamp"
  # node-llama-cpp reads custom cmake options from these variables. Only the build commands get them:
  # inherited by the evaluation, they would make "prebuilt" runs load the local build.
  cmake_env=(NODE_LLAMA_CPP_SKIP_DOWNLOAD=true)
  for option in "${cmake_options[@]}"; do cmake_env+=("NODE_LLAMA_CPP_CMAKE_OPTION_$option"); done
  cli=(env "${cmake_env[@]}" node "$nlc/dist/cli/cli.js")
  failed=""
  # `source download` clones the bundle ("Cloning (local bundle)") and applies node-llama-cpp's own
  # patches; NODE_LLAMA_CPP_SKIP_DOWNLOAD keeps every fallback path off the network.
  if ! "${cli[@]}" source download --gpu false --skipBuild --noUsageExample >>"$log" 2>&1; then
    failed="cloning the bundled source failed"
  else
    for patch_file in "${patch_files[@]}"; do
      if git -C "$nlc/llama/llama.cpp" apply --check "$root/$patch_file" >>"$log" 2>&1; then
        git -C "$nlc/llama/llama.cpp" apply "$root/$patch_file" >>"$log" 2>&1 || { failed="applying $patch_file failed"; break; }
      else
        # The source may carry the change already, or have moved on; either way the test runs below decide.
        say "$patch_file does not apply to this source; building without it"
      fi
    done
  fi
  if [ -z "$failed" ]; then
    if ! nice -n "$niceness" "${cli[@]}" source build --gpu false --noUsageExample >>"$log" 2>&1; then
      failed="the compile failed (last lines of $log: $(tail -n 3 "$log" | tr '\n' ' ' | cut -c1-200))"
    fi
  fi
  mkdir -p "$(dirname "$stamp")"
  if [ -n "$failed" ]; then
    printf '%s\nfailed\n' "$key" >"$stamp"
    keep_prebuilt "$failed"
  fi
  printf '%s\n' "$key" >"$stamp"
  say "compiled in $(( $(date +%s) - start )) s"
fi

# Test-run and benchmark the build in child processes (a crash there cannot take anything down);
# evaluate.ts writes the decision and prints one line about it.
if line="$(evaluate --key "$key" "${option_args[@]}")"; then
  say "$line"
else
  keep_prebuilt "the evaluation failed (log: $log)"
fi
exit 0
