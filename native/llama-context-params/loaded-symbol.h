// The definition of a symbol in one of the engine's already loaded libraries (libllama,
// libggml-base), not this library's stand-in for it. node-llama-cpp loads them in their own local
// scope, which RTLD_NEXT does not search: find the library among the loaded objects by a fragment
// of its path and ask it for the symbol. nullptr when no such library or symbol is loaded.
#pragma once

#include <atomic>

#include <dlfcn.h>
#include <link.h>
#include <string.h>

inline void *loaded_symbol(const char *library_fragment, const char *symbol_name) {
  struct Lookup {
    const char *fragment;
    const char *name;
    void *symbol;
  } lookup{library_fragment, symbol_name, nullptr};
  dl_iterate_phdr(
      [](struct dl_phdr_info *info, size_t, void *data) -> int {
        auto *l = static_cast<Lookup *>(data);
        const char *path = info->dlpi_name;
        if (path == nullptr || strstr(path, l->fragment) == nullptr) return 0;
        void *handle = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
        if (handle == nullptr) return 0;
        void *symbol = dlsym(handle, l->name);
        dlclose(handle);
        if (symbol == nullptr) return 0;
        l->symbol = symbol;
        return 1;
      },
      &lookup);
  return lookup.symbol;
}

// loaded_symbol() for a function, looked up on first use and kept in `cache` (a static of the
// caller): the interposers call their real function on every use, and a lookup walks every
// loaded object. nullptr, and looked up again next time, while no such function is loaded.
template <typename Function>
Function loaded_function(std::atomic<Function> &cache, const char *library_fragment, const char *symbol_name) {
  Function known = cache.load();
  if (known != nullptr) return known;
  auto found = reinterpret_cast<Function>(loaded_symbol(library_fragment, symbol_name));
  cache.store(found);
  return found;
}
