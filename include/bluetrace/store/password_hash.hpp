// Password hashing with Argon2id (libargon2), in the standard PHC encoding
// "$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>" (unpadded base64, 16-byte
// salt, 32-byte hash), so credentials.txt stays readable by any Argon2 implementation.
//
// Both functions cost one Argon2 computation (tens of milliseconds at the defaults) and
// hold no lock; they are thread-safe. They never keep or log the password; wiping the
// caller's copy is the caller's job (util::SecretString).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bluetrace/util/random.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::store {

// Cost parameters. The defaults are OWASP's first recommendation for Argon2id (19 MiB,
// two passes, one lane): about 13 ms per hash on the reference machine.
struct Argon2Params {
  std::uint32_t memory_kib = 19456;
  std::uint32_t iterations = 2;
  std::uint32_t parallelism = 1;
  friend bool operator==(const Argon2Params&, const Argon2Params&) = default;
};

// Accepted ranges: parallelism 1-64, iterations 1-64, memory 8*parallelism KiB to 1 GiB.
// The bounds also apply to encodings read from a file, so a doctored hash cannot make a
// login allocate unbounded memory or spin for minutes.
inline constexpr std::uint32_t kMaxArgon2MemoryKib = 1u << 20;
inline constexpr std::uint32_t kMaxArgon2Iterations = 64;
inline constexpr std::uint32_t kMaxArgon2Parallelism = 64;
// Longest password HashPassword accepts (bytes).
inline constexpr std::size_t kMaxPasswordBytes = 1024;

// OK, or kInvalidArgument naming the field out of range.
util::Status ValidateArgon2Params(const Argon2Params& params);

// A fresh Argon2id encoding of `password` with a 16-byte salt from `random`. Errors:
// kInvalidArgument for bad params, an empty password or one over kMaxPasswordBytes; the
// random generator's error; kInternal when libargon2 fails (e.g. out of memory).
util::Result<std::string> HashPassword(std::string_view password, const Argon2Params& params,
                                       util::Random& random);

// Whether `password` matches the Argon2id `encoded` hash, compared in constant time.
// A malformed encoding (wrong syntax, another Argon2 variant or version, params out of
// range) is kInvalidArgument, never `false`: a broken file must not look like a wrong
// password. kInternal when libargon2 fails for another reason.
util::Result<bool> VerifyPassword(std::string_view encoded, std::string_view password);

// The cost parameters of an encoding (after the same checks as VerifyPassword makes
// before running Argon2). Lets callers notice hashes made with older parameters.
util::Result<Argon2Params> ParseArgon2Encoding(std::string_view encoded);

}  // namespace bluetrace::store
