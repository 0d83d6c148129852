// The Argon2id encoding that credentials.txt holds for a hashed password, in the standard
// PHC form "$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>" (unpadded base64),
// and its one parser. The credentials.txt loader (text_records.hpp) and the login verifier
// (store/password_hash.hpp) both read encodings with ParseArgon2Encoding, so a file that
// loads never holds a hash that login then refuses. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "bluetrace/util/status.hpp"

namespace bluetrace::protocol {

// Cost parameters. The defaults are OWASP's first recommendation for Argon2id (19 MiB,
// two passes, one lane): about 13 ms per hash on the reference machine.
struct Argon2Params {
  std::uint32_t memory_kib = 19456;
  std::uint32_t iterations = 2;
  std::uint32_t parallelism = 1;
  friend bool operator==(const Argon2Params&, const Argon2Params&) = default;
};

// Accepted ranges: parallelism 1-64, iterations 1-64, memory 8*parallelism KiB to 1 GiB.
// The bounds apply to configured costs and to encodings read from a file alike, so a
// doctored hash cannot make a login allocate unbounded memory or spin for minutes.
inline constexpr std::uint32_t kMaxArgon2MemoryKib = 1u << 20;
inline constexpr std::uint32_t kMaxArgon2Iterations = 64;
inline constexpr std::uint32_t kMaxArgon2Parallelism = 64;
// Salt and hash lengths (decoded bytes) an encoding may carry. libargon2 itself allows a
// 4-byte hash; 16 bytes is the least worth storing. The store writes 16 and 32.
inline constexpr std::size_t kMinArgon2SaltBytes = 8;
inline constexpr std::size_t kMaxArgon2SaltBytes = 64;
inline constexpr std::size_t kMinArgon2HashBytes = 16;
inline constexpr std::size_t kMaxArgon2HashBytes = 64;

// OK, or kInvalidArgument naming the field out of range ("argon2 memory_kib must be ...").
util::Status ValidateArgon2Params(const Argon2Params& params);

// A parsed encoding: what Argon2id needs to recompute and compare the hash.
struct Argon2Encoding {
  Argon2Params params;
  std::vector<std::uint8_t> salt;
  std::vector<std::uint8_t> hash;
};

// Parses `encoded` with every bound login applies: the "$argon2id$" variant and version 19;
// decimal parameters without leading zeros inside ValidateArgon2Params' ranges; salt and
// hash in canonical unpadded standard base64 (as libargon2 writes and reads it, zero
// padding bits) within the byte lengths above; nothing after the hash. Errors are
// kInvalidArgument "password hash is not a valid Argon2id encoding: <why>", never quoting
// the salt or the hash.
util::Result<Argon2Encoding> ParseArgon2Encoding(std::string_view encoded);

}  // namespace bluetrace::protocol
