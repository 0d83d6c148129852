// Password hashing with Argon2id (libargon2), in the standard PHC encoding
// "$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>" (unpadded base64, 16-byte
// salt, 32-byte hash), so credentials.txt stays readable by any Argon2 implementation.
//
// Each function costs one Argon2 computation (tens of milliseconds at the defaults) and
// hold no lock; they are thread-safe. They never keep or log the password; wiping the
// caller's copy is the caller's job (util::SecretString).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bluetrace/protocol/argon2_encoding.hpp"
#include "bluetrace/util/random.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::store {

// The cost parameters and their bounds belong to the encoding's format.
using protocol::Argon2Params;
using protocol::kMaxArgon2Iterations;
using protocol::kMaxArgon2MemoryKib;
using protocol::kMaxArgon2Parallelism;
using protocol::ValidateArgon2Params;

// Longest password HashPassword accepts (bytes).
inline constexpr std::size_t kMaxPasswordBytes = 1024;

// A fresh Argon2id encoding of `password` with a 16-byte salt from `random`. Errors:
// kInvalidArgument for bad params, an empty password or one over kMaxPasswordBytes; the
// random generator's error; kInternal when libargon2 fails (e.g. out of memory).
util::Result<std::string> HashPassword(std::string_view password, const Argon2Params& params,
                                       util::Random& random);

// Whether `password` matches the Argon2id `encoded` hash, compared in constant time.
// `encoded` is read with protocol::ParseArgon2Encoding, the parser credentials.txt's loader
// uses, before Argon2 runs. A malformed encoding (wrong syntax, another Argon2 variant or
// version, costs, salt or hash out of range) is that parser's kInvalidArgument, never
// `false`: a broken file must not look like a wrong password. kInternal when libargon2
// fails for another reason (e.g. out of memory).
util::Result<bool> VerifyPassword(std::string_view encoded, std::string_view password);

// A hash of a random password that is thrown away at once, so no password matches it. A user
// store verifies an unknown user's password against it, so that an unknown user costs the
// same Argon2 work as a known one. Draws 16 bytes for the password, then HashPassword's salt.
// Errors: HashPassword's (bad params, the random generator's error, kInternal).
util::Result<std::string> MakeDummyHash(const Argon2Params& params, util::Random& random);

}  // namespace bluetrace::store
