#include "bluetrace/store/upload_code_store.hpp"

namespace bluetrace::store {

bool IsCodeDigest(std::string_view digest) {
  if (digest.size() != 64) return false;
  for (char c : digest) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace bluetrace::store
