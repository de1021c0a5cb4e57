# The unified-KV interposer (llama-context-params.cc), the CPU-buffer ones (cpu-buffers.cc), the
# thread pools (thread-pools.cc) and the decode threads (decode-thread.cc), built by `make build`
# after the peer-credentials addon. llama.h and the ggml headers it includes come from the
# llama.cpp release node-llama-cpp bundles, extracted by scripts/build-llama-context-params.sh into
# build/llama-headers. Exceptions are on: a decode thread carries llama.cpp's exceptions back to
# the thread that called llama_decode.
{
  "targets": [
    {
      "target_name": "llama_context_params",
      "sources": ["llama-context-params.cc", "cpu-buffers.cc", "thread-pools.cc", "decode-thread.cc"],
      "include_dirs": ["<(module_root_dir)/../../build/llama-headers"],
      "cflags": ["-Wall", "-Wextra"],
      "cflags_cc": ["-std=c++17", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-ldl"]
    }
  ]
}
