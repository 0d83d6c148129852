// Digests: SHA-256 as lower-case hex, the project's one way to hash a value for a file or
// a key (audit chain, lockout keys of non-phone names, device tokens). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace bluetrace::util {

// The 64 lower-case hex digits of SHA-256(data). OpenSSL's digest cannot fail for SHA-256
// on a working library; if it ever does, the process aborts rather than return a hash that
// every input would share.
std::string Sha256Hex(std::string_view data);

}  // namespace bluetrace::util
