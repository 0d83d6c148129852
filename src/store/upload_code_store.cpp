#include "bluetrace/store/upload_code_store.hpp"

namespace bluetrace::store {

std::int64_t UtcDayStart(std::int64_t t) {
  const std::int64_t r = t % kSecondsPerDay;
  return t - (r < 0 ? r + kSecondsPerDay : r);
}

bool IsCodeDigest(std::string_view digest) {
  if (digest.size() != 64) return false;
  for (char c : digest) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace bluetrace::store
