// Upload codes as values: how one is drawn, written, read back from a person and hashed
// (docs/SECURITY.md, "Upload codes"). A code is kUploadCodeLength characters of
// kUploadCodeAlphabet, which leaves out characters people confuse (0/O/Q, 1/I/L, 2/Z, 5/S,
// 6/G, 8/B, U/V); it is shown as two groups "ABCDE-FGHJK" and read back ignoring case,
// spaces and hyphens. Stored only as HMAC-SHA256(key, phone "\n" code), so the digest is
// bound to the phone number and useless without the server's key. Pure functions plus the
// key file; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/random.hpp"
#include "bluetrace/util/secret.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::service {

inline constexpr std::string_view kUploadCodeAlphabet = "ACDEFHJKMNPRTWXY34679";
inline constexpr std::size_t kUploadCodeLength = 10;
// The key file's size: 64 hex digits (32 random bytes) and a newline.
inline constexpr std::size_t kUploadCodeKeyBytes = 32;

// A fresh code of kUploadCodeLength characters, uniform over the alphabet (no modulo
// bias), without the hyphen. Errors: the generator's.
util::Result<util::SecretString> GenerateUploadCode(util::Random& random);

// "ABCDEFGHJK" as "ABCDE-FGHJK", for people.
std::string FormatUploadCode(std::string_view code);

// What a person typed, as a code: upper case, without spaces and hyphens. kInvalidArgument
// when the rest is not kUploadCodeLength characters of the alphabet (the message never
// repeats the input).
util::Result<util::SecretString> NormalizeUploadCode(std::string_view typed);

// HMAC-SHA256(key, phone "\n" code) as 64 lower-case hex digits. `code` normalized.
util::Result<std::string> UploadCodeDigest(std::string_view key, std::string_view phone,
                                           std::string_view code);

// The key from `path`: 64 hex digits on the first line. When the file is missing and
// `create` holds, makes one from `random` (mode 0600, durably). Errors: kPermissionDenied
// when group or others may read it; kInvalidArgument for a malformed file; kNotFound when
// missing and not `create`; the file system's.
util::Result<util::SecretString> LoadUploadCodeKey(store::FileSystem& fs, const std::string& path,
                                                   util::Random& random, bool create);

}  // namespace bluetrace::service
