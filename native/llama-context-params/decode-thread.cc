// One thread of its own for each context's decodes.
//
// node-llama-cpp calls llama_decode from its binding's async workers, on whichever of libuv's pool
// threads takes the job (four by default), and sampling goes the same way. With the context's
// persistent ggml thread pool (thread-pools.cc) the calling thread is thread 0 of every graph, so
// consecutive tokens were computed by a different OS thread each time. The kernel places a newly
// woken thread by its own history, often on the core where the pool's other thread is computing,
// and both then wait for one another at ggml's barriers until one is moved. Measured on a 2-core
// machine, 200 tokens of a 135M F16 model on two threads: 133 thread migrations (llama-server: 4),
// about one token in ten 10-15 ms late, decode 0.93-0.97x llama-server's; with one libuv thread
// (so one caller) 28 migrations and 1.05x. llama-server decodes every batch from one thread.
//
// The interposed llama_decode hands the call to its context's thread and waits for the result
// (or the exception, rethrown in the caller), so every graph of a context starts on the same
// thread. The thread is started with the context (llama-context-params.cc) and joined before the
// context is freed (thread-pools.cc's llama_free). A context this library did not create, or whose
// thread could not be started, decodes on the caller as before, and so does a batch that computes
// on one thread (a model's share of the cores may be one).
//
//   decodeThreads() -> number          decode threads alive now

#include <node_api.h>
#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "llama.h"
#include "loaded-symbol.h"

namespace {

using Decode = int32_t (*)(llama_context *, llama_batch);
using Threads = int32_t (*)(llama_context *);

struct DecodeThread {
  // One call at a time: node-llama-cpp never overlaps decodes of a context, but a second caller
  // must wait its turn rather than overwrite the first one's batch.
  std::mutex calls;
  std::mutex mutex;
  std::condition_variable wake;
  std::condition_variable finished;
  const llama_batch *batch = nullptr;
  bool pending = false;
  bool stop = false;
  int32_t result = 0;
  std::exception_ptr error;
  std::thread thread;
};

std::mutex threads_mutex;
// Never destroyed: a static map would destroy joinable std::threads at exit, which terminates the
// process, when a context is still alive then (a Worker ended without disposing its model).
auto *threads = new std::unordered_map<llama_context *, std::shared_ptr<DecodeThread>>();
std::atomic<Decode> real_decode{nullptr};

void serve(DecodeThread *t, llama_context *ctx, Decode real) {
  pthread_setname_np(pthread_self(), "llama-decode");
  std::unique_lock<std::mutex> lock(t->mutex);
  for (;;) {
    t->wake.wait(lock, [t] { return t->pending || t->stop; });
    if (!t->pending) return;
    const llama_batch batch = *t->batch;
    lock.unlock();
    int32_t result = -1;
    std::exception_ptr error;
    try {
      result = real(ctx, batch);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    t->result = result;
    t->error = error;
    t->pending = false;
    t->finished.notify_all();
  }
}

std::shared_ptr<DecodeThread> thread_of(llama_context *ctx) {
  std::lock_guard<std::mutex> lock(threads_mutex);
  auto found = threads->find(ctx);
  return found == threads->end() ? nullptr : found->second;
}

// Whether this batch computes on one thread (llama.cpp takes n_threads for a batch of one token,
// n_threads_batch for more): no other thread waits on it then, so there is nothing to gain from
// the hand-off, and it would cost two wake-ups per token.
bool on_one_thread(llama_context *ctx, const llama_batch &batch) {
  static std::atomic<Threads> n_threads{nullptr};
  static std::atomic<Threads> n_threads_batch{nullptr};
  Threads threads = batch.n_tokens > 1 ? loaded_function(n_threads_batch, "/libllama", "llama_n_threads_batch") : loaded_function(n_threads, "/libllama", "llama_n_threads");
  return threads != nullptr && threads(ctx) <= 1;
}

}  // namespace

// Called by llama-context-params.cc with every context it created.
void start_decode_thread(llama_context *ctx) {
  if (ctx == nullptr) return;
  Decode real = loaded_function(real_decode, "/libllama", "llama_decode");
  if (real == nullptr) return;
  auto t = std::make_shared<DecodeThread>();
  try {
    t->thread = std::thread(serve, t.get(), ctx, real);
  } catch (...) {
    return;  // no thread to spare: this context decodes on its callers
  }
  std::lock_guard<std::mutex> lock(threads_mutex);
  (*threads)[ctx] = t;
}

// Called by thread-pools.cc's llama_free before the context goes: no decode of it is running then.
void stop_decode_thread(llama_context *ctx) {
  std::shared_ptr<DecodeThread> t;
  {
    std::lock_guard<std::mutex> lock(threads_mutex);
    auto found = threads->find(ctx);
    if (found == threads->end()) return;
    t = found->second;
    threads->erase(found);
  }
  {
    std::lock_guard<std::mutex> lock(t->mutex);
    t->stop = true;
  }
  t->wake.notify_one();
  if (t->thread.joinable()) t->thread.join();
}

extern "C" __attribute__((visibility("default"))) int32_t llama_decode(llama_context *ctx, llama_batch batch) {
  Decode real = loaded_function(real_decode, "/libllama", "llama_decode");
  // Unreachable in practice (the caller's libllama is loaded); a negative result is llama.cpp's error.
  if (real == nullptr) return -1;
  std::shared_ptr<DecodeThread> t = thread_of(ctx);
  if (t == nullptr || on_one_thread(ctx, batch)) return real(ctx, batch);
  std::lock_guard<std::mutex> call(t->calls);
  std::unique_lock<std::mutex> lock(t->mutex);
  if (t->stop) {
    // The context is being freed: its thread is gone or going, so nothing would answer.
    lock.unlock();
    return real(ctx, batch);
  }
  t->batch = &batch;
  t->pending = true;
  t->wake.notify_one();
  t->finished.wait(lock, [&t] { return !t->pending; });
  t->batch = nullptr;
  if (t->error) {
    std::exception_ptr error = t->error;
    t->error = nullptr;
    lock.unlock();
    std::rethrow_exception(error);
  }
  return t->result;
}

namespace {

napi_value DecodeThreads(napi_env env, napi_callback_info) {
  size_t count;
  {
    std::lock_guard<std::mutex> lock(threads_mutex);
    count = threads->size();
  }
  napi_value result;
  napi_create_double(env, static_cast<double>(count), &result);
  return result;
}

}  // namespace

void define_decode_thread_exports(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"decodeThreads", nullptr, DecodeThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
}
