// Export registration for the ebm_native addon.
//
// Every .cc file under native/src registers the JavaScript functions it provides with EBM_EXPORT; the
// addon's Init (addon.cc) iterates the list and defines them on the module's exports object. Adding a
// module is therefore: drop a new .cc file in native/src (binding.gyp lists the folder), no shared file to
// edit. Names must be unique across the addon (Init aborts the load on a duplicate).
//
//   static napi_value my_fn(napi_env env, napi_callback_info info) { ... }
//   EBM_EXPORT("myFn", my_fn);
#pragma once

#include <node_api.h>

#include <vector>

namespace ebm {

struct ExportDef {
  const char* name;
  napi_callback fn;
};

/** The list of registered exports (a function-local static: safe during static initialisation). */
std::vector<ExportDef>& export_registry();

/** Appends {name, fn} to the registry when constructed (use through EBM_EXPORT at namespace scope). */
struct ExportRegistrar {
  ExportRegistrar(const char* name, napi_callback fn) { export_registry().push_back({name, fn}); }
};

}  // namespace ebm

#define EBM_CONCAT_INNER(a, b) a##b
#define EBM_CONCAT(a, b) EBM_CONCAT_INNER(a, b)
/** Registers `fn` (a napi_callback) as exports[name]. Use at namespace scope in a .cc file. */
#define EBM_EXPORT(name, fn) static ::ebm::ExportRegistrar EBM_CONCAT(ebm_export_, __LINE__)(name, fn)
