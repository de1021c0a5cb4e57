// Transparent huge pages for ggml's large CPU buffers.
//
// A context's KV cache, its compute buffers and the repacked weights of a quantized model are CPU
// buffers that ggml allocates with ggml_aligned_malloc and then writes whole (llama.cpp clears the
// KV cache when the context is created). On Linux with transparent huge pages in "madvise" mode (the
// common default), that costs one page fault per 4 KiB: ~48,000 faults for a 188 MiB cache, most of
// a context's creation time on a VM. ggml never asks for huge pages, and llama-server pays the same.
// This interposes ggml_aligned_malloc (loaded with RTLD_GLOBAL before node-llama-cpp's binding,
// this definition is bound before libggml-base's own, as llama_init_from_model is in
// llama-context-params.cc): buffers of at least HUGE_PAGE bytes are aligned to a huge page and
// marked MADV_HUGEPAGE, so they fault in 2 MiB at a time. Smaller ones are allocated as ggml does.
// ggml_aligned_free stays ggml's: it calls free(), which releases either kind.
//
//   hugePages(enabled: boolean)   applies to allocations made afterwards, process-wide
//   hugePageBuffers() -> number   how many buffers were given huge pages so far

#include <node_api.h>

#include <stdlib.h>
#include <sys/mman.h>

#include <atomic>
#include <cstddef>

namespace {

constexpr size_t HUGE_PAGE = 2u << 20;
// ggml's own alignment for CPU buffers (ggml.c).
constexpr size_t GGML_ALIGNMENT = 64;

std::atomic<bool> enabled{false};
std::atomic<unsigned long> huge_buffers{0};

}  // namespace

// Linux only: elsewhere ggml pairs its own allocator with a matching free (vm_allocate and
// vm_deallocate on macOS), which a posix_memalign'd buffer must never reach.
#if defined(__linux__)
extern "C" __attribute__((visibility("default"))) void *ggml_aligned_malloc(size_t size) {
  if (size == 0) return nullptr;
  bool huge = enabled.load() && size >= HUGE_PAGE;
  void *memory = nullptr;
  if (posix_memalign(&memory, huge ? HUGE_PAGE : GGML_ALIGNMENT, size) != 0) return nullptr;
  if (huge) {
#ifdef MADV_HUGEPAGE
    // Only whole huge pages can be backed by one; the advice is best effort (no THP: no change).
    size_t whole = size - size % HUGE_PAGE;
    if (madvise(memory, whole, MADV_HUGEPAGE) == 0) huge_buffers.fetch_add(1);
#endif
  }
  return memory;
}
#endif

namespace {

napi_value HugePages(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  bool value = false;
  if (argc < 1 || napi_get_value_bool(env, argv[0], &value) != napi_ok) {
    napi_throw_type_error(env, nullptr, "hugePages(enabled: boolean)");
    return nullptr;
  }
  enabled.store(value);
  return nullptr;
}

napi_value HugePageBuffers(napi_env env, napi_callback_info) {
  napi_value result;
  napi_create_double(env, static_cast<double>(huge_buffers.load()), &result);
  return result;
}

}  // namespace

// Called by llama-context-params.cc's module initialiser: one library, one set of exports.
void define_huge_page_exports(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"hugePages", nullptr, HugePages, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"hugePageBuffers", nullptr, HugePageBuffers, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
}
