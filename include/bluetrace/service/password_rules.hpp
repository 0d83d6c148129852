// The password rules of registration, in one place: the server's defaults
// (auth.min_password_length and auth.max_password_length, ServerConfig) and the check the
// client makes before it asks for a new password a second time. A server may be configured
// with other bounds; its answer to Register stays the final word. Pure functions,
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

#include "bluetrace/util/status.hpp"

namespace bluetrace::service {

// Bytes, not characters. The upper bound keeps a request small; Argon2's cost does not grow
// with it.
inline constexpr std::uint32_t kDefaultMinPasswordBytes = 8;
inline constexpr std::uint32_t kDefaultMaxPasswordBytes = 1024;

// OK when min_bytes <= password_bytes <= max_bytes; else kInvalidArgument in the server's
// words: "the password must be <min> to <max> bytes long".
util::Status CheckPasswordLength(std::size_t password_bytes,
                                 std::uint32_t min_bytes = kDefaultMinPasswordBytes,
                                 std::uint32_t max_bytes = kDefaultMaxPasswordBytes);

}  // namespace bluetrace::service
