// ggml's large CPU buffers: huge pages, and fresh pages that are never cleared by hand.
//
// A context's KV cache, its compute buffers and the repacked weights of a quantized model are CPU
// buffers that ggml allocates with ggml_aligned_malloc. This interposes it (loaded with
// RTLD_GLOBAL before node-llama-cpp's binding, this definition is bound before libggml-base's own,
// as llama_init_from_model is in llama-context-params.cc), and ggml_aligned_free and
// ggml_backend_buffer_clear with it:
//
// - Huge pages: buffers of at least HUGE_PAGE bytes are aligned to a huge page and marked
//   MADV_HUGEPAGE, so they fault in 2 MiB at a time. With transparent huge pages in "madvise"
//   mode (the common default) a buffer written whole otherwise costs one page fault per 4 KiB:
//   ~48,000 for a 188 MiB cache. ggml never asks for huge pages, and llama-server pays the same.
// - Fresh pages: buffers of at least MAPPED_MIN bytes are mapped from the kernel directly, whose
//   anonymous pages read as zero until written. llama.cpp clears a KV cache (and its output
//   buffer) right after allocating it; that first clear to zero of a fresh mapping is skipped, and
//   the mapping gives up its huge pages, so a cache costs memory only for the cells used (a page
//   at a time) instead of being written whole at creation. llama-server writes the whole cache
//   when it starts. Any later clear, or a clear to another value, is done as ggml does it.
// Smaller buffers are allocated as ggml does; free() releases them.
//
//   hugePages(enabled: boolean)      applies to allocations made afterwards, process-wide
//   freshBuffers(enabled: boolean)   likewise
//   hugePageBuffers() -> number      how many buffers were given huge pages so far
//   clearsSkipped() -> number        how many first clears found fresh pages and were skipped

#include <node_api.h>

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <atomic>
#include <cstddef>
#include <mutex>
#include <unordered_map>

#include "loaded-symbol.h"

namespace {

constexpr size_t HUGE_PAGE = 2u << 20;
// Large enough that a mapping of its own costs nothing next to filling it.
constexpr size_t MAPPED_MIN = HUGE_PAGE;
// ggml's own alignment for CPU buffers (ggml.c).
constexpr size_t GGML_ALIGNMENT = 64;

std::atomic<bool> huge_pages{false};
std::atomic<bool> fresh_buffers{false};
std::atomic<unsigned long> huge_buffers{0};
std::atomic<unsigned long> clears_skipped{0};

struct Mapping {
  size_t length;
  // Nothing has been written to it yet as far as this library knows: its first clear is skipped.
  bool fresh;
};
std::mutex mappings_mutex;
std::unordered_map<void *, Mapping> mappings;

size_t whole_huge_pages(size_t size) { return size - size % HUGE_PAGE; }

void advise_huge(void *memory, size_t size) {
#ifdef MADV_HUGEPAGE
  // Only whole huge pages can be backed by one; the advice is best effort (no THP: no change).
  if (madvise(memory, whole_huge_pages(size), MADV_HUGEPAGE) == 0) huge_buffers.fetch_add(1);
#endif
}

// A mapping of `size` bytes aligned to a huge page: map a huge page more, then trim both ends.
void *map_fresh(size_t size) {
  size_t length = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
  void *raw = mmap(nullptr, length + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = (start + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
  if (aligned > start) munmap(raw, aligned - start);
  size_t tail = start + length + HUGE_PAGE - (aligned + length);
  if (tail > 0) munmap(reinterpret_cast<void *>(aligned + length), tail);
  void *memory = reinterpret_cast<void *>(aligned);
  std::lock_guard<std::mutex> lock(mappings_mutex);
  mappings[memory] = Mapping{length, true};
  return memory;
}

// The mapping `memory` starts, removed from the table; its length, or 0 when it is not one.
size_t forget_mapping(void *memory) {
  std::lock_guard<std::mutex> lock(mappings_mutex);
  auto found = mappings.find(memory);
  if (found == mappings.end()) return 0;
  size_t length = found->second.length;
  mappings.erase(found);
  return length;
}

// True once for a fresh mapping that starts at `memory`: the caller may skip clearing it to zero.
// The mapping gives up its huge pages: filled a cell at a time from now on, 4 KiB pages keep its
// memory to the cells used.
bool take_fresh(void *memory) {
  std::lock_guard<std::mutex> lock(mappings_mutex);
  auto found = mappings.find(memory);
  if (found == mappings.end() || !found->second.fresh) return false;
  found->second.fresh = false;
#ifdef MADV_NOHUGEPAGE
  madvise(memory, found->second.length, MADV_NOHUGEPAGE);
#endif
  return true;
}

using BufferClear = void (*)(void *, uint8_t);
using BufferBase = void *(*)(void *);
std::atomic<BufferClear> real_clear{nullptr};
std::atomic<BufferBase> buffer_base{nullptr};

}  // namespace

// Linux only: elsewhere ggml pairs its own allocator with a matching free (vm_allocate and
// vm_deallocate on macOS), which a posix_memalign'd or mapped buffer must never reach.
#if defined(__linux__)
extern "C" __attribute__((visibility("default"))) void *ggml_aligned_malloc(size_t size) {
  if (size == 0) return nullptr;
  bool huge = huge_pages.load() && size >= HUGE_PAGE;
  void *memory = nullptr;
  if (fresh_buffers.load() && size >= MAPPED_MIN) {
    memory = map_fresh(size);
    if (memory == nullptr) return nullptr;
  } else if (posix_memalign(&memory, huge ? HUGE_PAGE : GGML_ALIGNMENT, size) != 0) {
    return nullptr;
  }
  if (huge) advise_huge(memory, size);
  return memory;
}

extern "C" __attribute__((visibility("default"))) void ggml_aligned_free(void *memory, size_t) {
  if (memory == nullptr) return;
  size_t length = forget_mapping(memory);
  if (length > 0) munmap(memory, length);
  else free(memory);
}

extern "C" __attribute__((visibility("default"))) void ggml_backend_buffer_clear(void *buffer, uint8_t value) {
  BufferClear clear = loaded_function(real_clear, "/libggml-base", "ggml_backend_buffer_clear");
  BufferBase base = loaded_function(buffer_base, "/libggml-base", "ggml_backend_buffer_get_base");
  // Unreachable in practice (the caller's libggml-base is loaded): without it nothing can be cleared.
  if (clear == nullptr) return;
  if (value == 0 && buffer != nullptr && base != nullptr) {
    void *memory = base(buffer);
    if (take_fresh(memory)) {
      clears_skipped.fetch_add(1);
      return;
    }
  }
  clear(buffer, value);
}
#endif

namespace {

napi_value SetFlag(napi_env env, napi_callback_info info, std::atomic<bool> &flag, const char *usage) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  bool value = false;
  if (argc < 1 || napi_get_value_bool(env, argv[0], &value) != napi_ok) {
    napi_throw_type_error(env, nullptr, usage);
    return nullptr;
  }
  flag.store(value);
  return nullptr;
}

napi_value Count(napi_env env, const std::atomic<unsigned long> &counter) {
  napi_value result;
  napi_create_double(env, static_cast<double>(counter.load()), &result);
  return result;
}

napi_value HugePages(napi_env env, napi_callback_info info) { return SetFlag(env, info, huge_pages, "hugePages(enabled: boolean)"); }
napi_value FreshBuffers(napi_env env, napi_callback_info info) { return SetFlag(env, info, fresh_buffers, "freshBuffers(enabled: boolean)"); }
napi_value HugePageBuffers(napi_env env, napi_callback_info) { return Count(env, huge_buffers); }
napi_value ClearsSkipped(napi_env env, napi_callback_info) { return Count(env, clears_skipped); }

}  // namespace

// Called by llama-context-params.cc's module initialiser: one library, one set of exports.
void define_cpu_buffer_exports(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"hugePages", nullptr, HugePages, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"freshBuffers", nullptr, FreshBuffers, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"hugePageBuffers", nullptr, HugePageBuffers, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"clearsSkipped", nullptr, ClearsSkipped, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
}
