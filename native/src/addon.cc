// Addon entry: defines every function registered with EBM_EXPORT (see registry.h) on `exports`.
#include <cstring>
#include <string>

#include "registry.h"

namespace ebm {

std::vector<ExportDef>& export_registry() {
  static std::vector<ExportDef> list;
  return list;
}

}  // namespace ebm

NAPI_MODULE_INIT() {
  const auto& list = ebm::export_registry();
  for (size_t i = 0; i < list.size(); i++) {
    for (size_t j = 0; j < i; j++) {
      if (std::strcmp(list[i].name, list[j].name) == 0) {
        napi_throw_error(env, nullptr, (std::string("ebm_native: duplicate export ") + list[i].name).c_str());
        return nullptr;
      }
    }
    napi_value fn;
    if (napi_create_function(env, list[i].name, NAPI_AUTO_LENGTH, list[i].fn, nullptr, &fn) != napi_ok ||
        napi_set_named_property(env, exports, list[i].name, fn) != napi_ok) {
      napi_throw_error(env, nullptr, "ebm_native: could not define exports");
      return nullptr;
    }
  }
  return exports;
}
