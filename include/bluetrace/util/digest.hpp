// Digests: SHA-256, the project's one way to hash a value for a file, a key or a
// comparison (audit chain, lockout keys of non-phone names, device tokens, plaintext
// password checks), and the "SHA256:AB:CD:..." fingerprint form of certificates. Pure;
// thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "bluetrace/util/status.hpp"

namespace bluetrace::util {

using Sha256Digest = std::array<std::uint8_t, 32>;

// SHA-256 of `data`. kInternal when OpenSSL's digest fails (it should not on a working
// library); never a digest that every input would share.
Result<Sha256Digest> Sha256(std::span<const std::uint8_t> data);
Result<Sha256Digest> Sha256(std::string_view data);

// The 64 lower-case hex digits of SHA-256(data). For callers that cannot report an error:
// if the digest ever fails, the process aborts rather than return a hash that every input
// would share.
std::string Sha256Hex(std::string_view data);

// "SHA256:" then the digest as 32 upper-case hex byte pairs separated by colons, the form
// `openssl x509 -noout -fingerprint -sha256` prints (7 + 95 characters).
std::string Sha256Fingerprint(const Sha256Digest& digest);

// True for exactly the form Sha256Fingerprint writes.
bool IsSha256Fingerprint(std::string_view fingerprint);

}  // namespace bluetrace::util
