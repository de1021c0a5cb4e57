// One persistent ggml thread pool per context.
//
// llama.cpp's CPU backend, built without OpenMP (as node-llama-cpp's local builds are), computes a
// graph with the thread pool attached to the context; without one it creates a pool for that graph
// and joins it afterwards. node-llama-cpp never attaches one, so with more than one thread every
// token started new threads, which the kernel first places on the creating thread's core, where
// they spin at ggml's barriers against it: measured on a 2-core machine, two threads decoded at
// about half the speed of one. llama-server (through llama.cpp's common code) and llama-bench
// attach a pool that lives as long as the context; this does the same for node-llama-cpp.
//
// attach_thread_pool() is called by the llama_init_from_model interposer with each new context. Its
// pool holds max(n_threads, n_threads_batch) threads, the most the context is created for;
// llama_set_n_threads (node-llama-cpp calls it before each batch) then picks how many of them a
// graph uses, so a model's share of the cores can shrink and grow again while it stays loaded. The
// pool is freed right after its context, through an interposed llama_free.
//
// The pool's threads do not poll for work between graphs (polling level 0): they sleep until the
// next graph starts. Between two decoded tokens the Worker's JavaScript, the sampler and the HTTP
// layer need the cores; a pool thread spinning there (llama.cpp's default level, 50, spins for
// tens of milliseconds) took one of them and slowed every token.
//
//   threadPools() -> number           pools alive now

#include <node_api.h>

#include <string.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <unordered_map>

#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "llama.h"
#include "loaded-symbol.h"

namespace {

using ThreadPoolNew = ggml_threadpool_t (*)(ggml_threadpool_params *);
using ThreadPoolFree = void (*)(ggml_threadpool_t);
using AttachThreadPool = void (*)(llama_context *, ggml_threadpool_t, ggml_threadpool_t);
using Free = void (*)(llama_context *);
using DevByType = ggml_backend_dev_t (*)(enum ggml_backend_dev_type);
using DevBackendReg = ggml_backend_reg_t (*)(ggml_backend_dev_t);
using RegProcAddress = void *(*)(ggml_backend_reg_t, const char *);

std::mutex pools_mutex;
std::unordered_map<llama_context *, std::pair<ggml_threadpool_t, ThreadPoolFree>> pools;

// The CPU backend's own pool functions: it is loaded as one of several variants (or a GPU build's
// CPU part), so it is asked through its registry, as llama.cpp's common code asks it.
void *cpu_backend_function(const char *name) {
  auto by_type = reinterpret_cast<DevByType>(loaded_symbol("/libggml", "ggml_backend_dev_by_type"));
  auto backend_reg = reinterpret_cast<DevBackendReg>(loaded_symbol("/libggml", "ggml_backend_dev_backend_reg"));
  auto proc_address = reinterpret_cast<RegProcAddress>(loaded_symbol("/libggml", "ggml_backend_reg_get_proc_address"));
  if (by_type == nullptr || backend_reg == nullptr || proc_address == nullptr) return nullptr;
  ggml_backend_dev_t device = by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
  if (device == nullptr) return nullptr;
  ggml_backend_reg_t reg = backend_reg(device);
  return reg == nullptr ? nullptr : proc_address(reg, name);
}

}  // namespace

// Called by llama-context-params.cc with every context it created. Without the functions the
// context keeps llama.cpp's per-graph pools, as before.
void attach_thread_pool(llama_context *ctx, const llama_context_params &params) {
  if (ctx == nullptr) return;
  auto pool_new = reinterpret_cast<ThreadPoolNew>(cpu_backend_function("ggml_threadpool_new"));
  auto pool_free = reinterpret_cast<ThreadPoolFree>(cpu_backend_function("ggml_threadpool_free"));
  auto attach = reinterpret_cast<AttachThreadPool>(loaded_symbol("/libllama", "llama_attach_threadpool"));
  if (pool_new == nullptr || pool_free == nullptr || attach == nullptr) return;
  int threads = std::max({params.n_threads, params.n_threads_batch, 1});
  threads = std::min(threads, GGML_MAX_N_THREADS);
  // ggml_threadpool_params_default's values (no CPU mask, normal priority), but no polling (see above).
  ggml_threadpool_params pool_params;
  memset(&pool_params, 0, sizeof(pool_params));
  pool_params.n_threads = threads;
  pool_params.prio = GGML_SCHED_PRIO_NORMAL;
  pool_params.poll = 0;
  pool_params.strict_cpu = false;
  pool_params.paused = false;
  ggml_threadpool_t pool = pool_new(&pool_params);
  if (pool == nullptr) return;
  attach(ctx, pool, nullptr);
  std::lock_guard<std::mutex> lock(pools_mutex);
  pools[ctx] = {pool, pool_free};
}

void stop_decode_thread(llama_context *ctx);

extern "C" __attribute__((visibility("default"))) void llama_free(llama_context *ctx) {
  static std::atomic<Free> real{nullptr};
  Free free_context = loaded_function(real, "/libllama", "llama_free");
  // Before the context: its decode thread (decode-thread.cc) holds it.
  stop_decode_thread(ctx);
  if (free_context != nullptr) free_context(ctx);
  std::pair<ggml_threadpool_t, ThreadPoolFree> pool{nullptr, nullptr};
  {
    std::lock_guard<std::mutex> lock(pools_mutex);
    auto found = pools.find(ctx);
    if (found == pools.end()) return;
    pool = found->second;
    pools.erase(found);
  }
  // After the context: its backend no longer refers to the pool.
  pool.second(pool.first);
}

namespace {

napi_value ThreadPools(napi_env env, napi_callback_info) {
  size_t count;
  {
    std::lock_guard<std::mutex> lock(pools_mutex);
    count = pools.size();
  }
  napi_value result;
  napi_create_double(env, static_cast<double>(count), &result);
  return result;
}

}  // namespace

void define_thread_pool_exports(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"threadPools", nullptr, ThreadPools, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
}
