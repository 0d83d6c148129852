#include "bluetrace/store/tempid_store.hpp"

namespace bluetrace::store {

util::Result<std::vector<std::optional<protocol::TempIdRecord>>> TempIdStore::LookupAll(
    std::span<const protocol::TempId> ids) const {
  std::vector<std::optional<protocol::TempIdRecord>> out;
  out.reserve(ids.size());
  for (const auto& id : ids) out.push_back(Lookup(id));
  return out;
}

}  // namespace bluetrace::store
