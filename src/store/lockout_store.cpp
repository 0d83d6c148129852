#include "bluetrace/store/lockout_store.hpp"

#include <string>

namespace bluetrace::store {

util::Status ValidateLockoutPolicy(const LockoutPolicy& policy) {
  if (policy.max_failures < 1) return util::InvalidArgument("lockout max_failures must be >= 1");
  if (policy.block_seconds < 1 || policy.block_seconds > LockoutPolicy::kMaxBlockSeconds) {
    return util::InvalidArgument("lockout block_seconds must be 1-" +
                                 std::to_string(LockoutPolicy::kMaxBlockSeconds) + ", got " +
                                 std::to_string(policy.block_seconds));
  }
  if (policy.max_unknown_entries < 1) {
    return util::InvalidArgument("lockout max_unknown_entries must be >= 1");
  }
  return util::Status::Ok();
}

}  // namespace bluetrace::store
