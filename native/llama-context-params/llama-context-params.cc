// Unified KV cache for node-llama-cpp's contexts.
//
// llama.cpp can give all the sequences of a context one shared KV cache (llama_context_params.
// kv_unified), so that any one sequence may use the whole context and four idle slots cost no more
// than one. llama-server does this by default; node-llama-cpp 3.21's addon never sets the field, and
// its JS multiplies the per-sequence size by the sequence count. This library interposes
// llama_init_from_model, the one call through which the addon creates a context: loaded with
// RTLD_GLOBAL before the addon, it is found first when the addon's reference is bound, so it sees
// the parameters, sets kv_unified and divides n_ctx back to the per-sequence size (which every
// sequence may now fill), then calls the real function in the libllama that the addon loaded, and
// gives the new context a thread pool of its own (thread-pools.cc) and a thread for its decodes
// (decode-thread.cc).
// Compiled against the llama.h of the same bundled llama.cpp release node-llama-cpp ships, so the
// parameter struct's layout is the one the binaries were built with.
//
//   configure(unified: boolean)        applies to contexts created afterwards, process-wide
//   interposed() -> boolean
//     whether llama_init_from_model has been called through this library at all (false after a
//     context was created means the addon bound libllama's own symbol: see the loader).

#include <node_api.h>

#include <atomic>

#include "llama.h"
#include "loaded-symbol.h"

// cpu-buffers.cc, thread-pools.cc and decode-thread.cc: the other interposers this library carries.
void define_cpu_buffer_exports(napi_env env, napi_value exports);
void define_thread_pool_exports(napi_env env, napi_value exports);
void define_decode_thread_exports(napi_env env, napi_value exports);
void attach_thread_pool(llama_context *ctx, const llama_context_params &params);
void start_decode_thread(llama_context *ctx);

namespace {

using InitFromModel = llama_context *(*)(llama_model *, llama_context_params);

std::atomic<bool> unify{false};
std::atomic<bool> interposed{false};
std::atomic<InitFromModel> real_init{nullptr};

}  // namespace

extern "C" __attribute__((visibility("default"))) llama_context *llama_init_from_model(llama_model *model, llama_context_params params) {
  interposed.store(true);
  InitFromModel real = loaded_function(real_init, "/libllama", "llama_init_from_model");
  // Unreachable in practice (the caller's libllama is loaded); failing the creation is the safe answer.
  if (real == nullptr) return nullptr;
  if (unify.load() && params.n_seq_max > 1 && !params.embeddings) {
    params.kv_unified = true;
    // node-llama-cpp asked for n_seq_max separate caches of n_ctx / n_seq_max cells (rounded up to
    // 256); one shared cache of the per-sequence size keeps each sequence's limit where it was.
    uint32_t per_sequence = params.n_ctx / params.n_seq_max;
    params.n_ctx = per_sequence < 256 ? 256 : per_sequence - per_sequence % 256;
  }
  llama_context *ctx = real(model, params);
  attach_thread_pool(ctx, params);
  start_decode_thread(ctx);
  return ctx;
}

namespace {

napi_value Configure(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  bool value = false;
  if (argc < 1 || napi_get_value_bool(env, argv[0], &value) != napi_ok) {
    napi_throw_type_error(env, nullptr, "configure(unified: boolean)");
    return nullptr;
  }
  unify.store(value);
  return nullptr;
}

napi_value Interposed(napi_env env, napi_callback_info) {
  napi_value result;
  napi_get_boolean(env, interposed.load(), &result);
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  define_cpu_buffer_exports(env, exports);
  define_thread_pool_exports(env, exports);
  define_decode_thread_exports(env, exports);
  napi_property_descriptor properties[] = {
      {"configure", nullptr, Configure, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"interposed", nullptr, Interposed, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
