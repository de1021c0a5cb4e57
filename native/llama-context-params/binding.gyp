# The unified-KV interposer (llama-context-params.cc), the CPU-buffer ones (cpu-buffers.cc) and the
# thread pools (thread-pools.cc), built by `make build` after the peer-credentials addon. llama.h
# and the ggml headers it includes come from the llama.cpp release node-llama-cpp bundles,
# extracted by scripts/build-llama-context-params.sh into build/llama-headers.
{
  "targets": [
    {
      "target_name": "llama_context_params",
      "sources": ["llama-context-params.cc", "cpu-buffers.cc", "thread-pools.cc"],
      "include_dirs": ["<(module_root_dir)/../../build/llama-headers"],
      "cflags": ["-Wall", "-Wextra"],
      "cflags_cc": ["-std=c++17"],
      "libraries": ["-ldl"]
    }
  ]
}
