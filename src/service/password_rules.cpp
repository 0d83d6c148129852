#include "bluetrace/service/password_rules.hpp"

#include <string>

#include "bluetrace/store/password_hash.hpp"

namespace bluetrace::service {

// Every password the server's defaults admit can be hashed.
static_assert(kDefaultMaxPasswordBytes <= store::kMaxPasswordBytes);
static_assert(kDefaultMinPasswordBytes >= 1 &&
              kDefaultMinPasswordBytes <= kDefaultMaxPasswordBytes);

util::Status CheckPasswordLength(std::size_t password_bytes, std::uint32_t min_bytes,
                                 std::uint32_t max_bytes) {
  if (password_bytes >= min_bytes && password_bytes <= max_bytes) return util::Status::Ok();
  return util::InvalidArgument("the password must be " + std::to_string(min_bytes) + " to " +
                               std::to_string(max_bytes) + " bytes long");
}

}  // namespace bluetrace::service
