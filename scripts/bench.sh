#!/usr/bin/env bash
# `make bench`: our server against llama-server on random-weight models with SmolLM2-135M's exact
# shapes (or another preset's, BENCH_PRESET), in Q8_0 and F16. Builds llama-server from
# node-llama-cpp's bundled llama.cpp source when needed, generates the models once into
# .cache/bench-models, then runs src/bench/compare/main.ts (expects `make build` to have produced dist/).
#
# Environment (all optional):
#   BENCH_TYPES          weight types to compare. Defaults to "q8_0 f16".
#   BENCH_PRESET         the model shape, a generate-model preset (smollm2-135m, smollm2-360m). Defaults to
#                        smollm2-135m: small enough that a run takes minutes, and that the per-token cost
#                        outside llama.cpp shows; a larger shape shows how much of it remains.
#   BENCH_THREADS        threads of both servers at matched settings (ours: the thread budget, all of it for
#                        the lone model). Defaults to 1: on the 2-vCPU machines measured here one engine
#                        thread leaves a core to the HTTP layers and the load generator.
#   BENCH_PARALLEL       parallel sequences of both servers and the high concurrency level. Defaults to 4.
#   BENCH_CONTEXT        context tokens per sequence. Defaults to 2048.
#   BENCH_PROMPT_TOKENS  prompt length in tokens, unique per request. Defaults to 128.
#   BENCH_MAX_TOKENS     tokens generated per request (EOS ignored). Defaults to 128.
#   BENCH_REQUESTS       requests per concurrency level. Defaults to 8.
#   BENCH_ROUNDS         rounds per model, the two servers measured alternately. Defaults to 3.
#   BENCH_COLD_RUNS      cold starts per side (first token of a model not loaded), 0 for none. Defaults to 5.
#   BENCH_RESTORED_RUNS  runs of the restored-prefix measurement (a ~2,000-token prompt repeated after an
#                        unload), 0 for none. Defaults to 3.
#   BENCH_CACHED_RUNS    runs of the decode measured after three ~2,000-token conversations stayed cached,
#                        0 for none. Defaults to 3.
#   BENCH_SETTINGS       which comparisons: "matched" (both servers with the settings above), "defaults"
#                        (each started with only the model and an address, as a user starts it), or both,
#                        comma-separated. Defaults to "matched,defaults".
#   BENCH_SELF_CHECK=1   run llama-server in both columns, to see the harness's own noise.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [ ! -f dist/cli.js ]; then
  echo "bench: dist/cli.js is missing; run 'make build' first" >&2
  exit 1
fi

llama_server="$(scripts/build-llama-server.sh)"

models_dir=.cache/bench-models
mkdir -p "$models_dir"
model_args=()
preset="${BENCH_PRESET:-smollm2-135m}"
for type in ${BENCH_TYPES:-q8_0 f16}; do
  file="$models_dir/$preset-$type.gguf"
  if [ ! -s "$file" ]; then
    echo "bench: generating $file" >&2
    # Write to a temporary name so an interrupted run never leaves a truncated model behind.
    node dist/cli.js generate-model --preset "$preset" --type "$type" --seed 1 --out "$file.tmp" >&2
    mv "$file.tmp" "$file"
  fi
  model_args+=(--model "$type=$file")
done

args=(--llama-server "$llama_server" "${model_args[@]}")
args+=(--threads "${BENCH_THREADS:-1}")
[ -n "${BENCH_PARALLEL:-}" ] && args+=(--parallel "$BENCH_PARALLEL")
[ -n "${BENCH_CONTEXT:-}" ] && args+=(--context "$BENCH_CONTEXT")
[ -n "${BENCH_PROMPT_TOKENS:-}" ] && args+=(--prompt-tokens "$BENCH_PROMPT_TOKENS")
[ -n "${BENCH_MAX_TOKENS:-}" ] && args+=(--max-tokens "$BENCH_MAX_TOKENS")
[ -n "${BENCH_REQUESTS:-}" ] && args+=(--requests "$BENCH_REQUESTS")
[ -n "${BENCH_ROUNDS:-}" ] && args+=(--rounds "$BENCH_ROUNDS")
[ -n "${BENCH_COLD_RUNS:-}" ] && args+=(--cold-runs "$BENCH_COLD_RUNS")
[ -n "${BENCH_RESTORED_RUNS:-}" ] && args+=(--restored-runs "$BENCH_RESTORED_RUNS")
[ -n "${BENCH_CACHED_RUNS:-}" ] && args+=(--cached-runs "$BENCH_CACHED_RUNS")
[ -n "${BENCH_SETTINGS:-}" ] && args+=(--settings "$BENCH_SETTINGS")
[ "${BENCH_SELF_CHECK:-0}" = "1" ] && args+=(--self-check)

exec node dist/bench/compare/main.js "${args[@]}"
