#include "bluetrace/store/password_hash.hpp"

#include <argon2.h>

#include <array>
#include <charconv>
#include <string>

namespace bluetrace::store {

using util::Result;
using util::Status;

namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::uint32_t kHashBytes = 32;
constexpr std::string_view kPrefix = "$argon2id$v=19$";

Status Malformed(std::string_view why) {
  return util::InvalidArgument("malformed Argon2id encoding: " + std::string(why));
}

// Consumes "<key>=<decimal>" from the front of `s`.
bool ConsumeNumber(std::string_view& s, std::string_view key, std::uint32_t& out) {
  if (s.substr(0, key.size()) != key) return false;
  s.remove_prefix(key.size());
  std::size_t len = 0;
  while (len < s.size() && s[len] >= '0' && s[len] <= '9') ++len;
  if (len == 0 || len > 10 || (len > 1 && s[0] == '0')) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + len, out);
  if (ec != std::errc() || ptr != s.data() + len) return false;
  s.remove_prefix(len);
  return true;
}

bool IsBase64Field(std::string_view s, std::size_t min_len, std::size_t max_len) {
  if (s.size() < min_len || s.size() > max_len || s.size() % 4 == 1) return false;
  for (const char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Status ValidateArgon2Params(const Argon2Params& params) {
  if (params.parallelism < 1 || params.parallelism > kMaxArgon2Parallelism) {
    return util::InvalidArgument("argon2 parallelism must be 1-" +
                                 std::to_string(kMaxArgon2Parallelism) + ", got " +
                                 std::to_string(params.parallelism));
  }
  if (params.iterations < 1 || params.iterations > kMaxArgon2Iterations) {
    return util::InvalidArgument("argon2 iterations must be 1-" +
                                 std::to_string(kMaxArgon2Iterations) + ", got " +
                                 std::to_string(params.iterations));
  }
  // Argon2 needs at least 8 KiB per lane.
  const std::uint32_t min_memory = 8 * params.parallelism;
  if (params.memory_kib < min_memory || params.memory_kib > kMaxArgon2MemoryKib) {
    return util::InvalidArgument("argon2 memory_kib must be " + std::to_string(min_memory) + "-" +
                                 std::to_string(kMaxArgon2MemoryKib) + ", got " +
                                 std::to_string(params.memory_kib));
  }
  return Status::Ok();
}

Result<Argon2Params> ParseArgon2Encoding(std::string_view encoded) {
  if (encoded.substr(0, kPrefix.size()) != kPrefix) {
    return Malformed("expected it to start with \"$argon2id$v=19$\"");
  }
  std::string_view rest = encoded.substr(kPrefix.size());
  Argon2Params params;
  if (!ConsumeNumber(rest, "m=", params.memory_kib) ||
      !ConsumeNumber(rest, ",t=", params.iterations) ||
      !ConsumeNumber(rest, ",p=", params.parallelism)) {
    return Malformed("expected \"m=<KiB>,t=<passes>,p=<lanes>\"");
  }
  if (const Status st = ValidateArgon2Params(params); !st.ok()) return Malformed(st.message());
  if (rest.empty() || rest[0] != '$') return Malformed("expected '$' before the salt");
  rest.remove_prefix(1);
  const std::size_t dollar = rest.find('$');
  if (dollar == std::string_view::npos) return Malformed("expected '$' before the hash");
  // 8 to 64 bytes of salt, 16 to 64 bytes of hash, in unpadded base64.
  if (!IsBase64Field(rest.substr(0, dollar), 11, 86)) return Malformed("bad salt");
  if (!IsBase64Field(rest.substr(dollar + 1), 22, 86)) return Malformed("bad hash");
  return params;
}

Result<std::string> HashPassword(std::string_view password, const Argon2Params& params,
                                 util::Random& random) {
  BLUETRACE_RETURN_IF_ERROR(ValidateArgon2Params(params));
  if (password.empty()) return util::InvalidArgument("password is empty");
  if (password.size() > kMaxPasswordBytes) {
    return util::InvalidArgument("password is longer than " + std::to_string(kMaxPasswordBytes) +
                                 " bytes");
  }
  std::array<std::uint8_t, kSaltBytes> salt{};
  BLUETRACE_RETURN_IF_ERROR(random.Fill(salt));
  const std::size_t len = argon2_encodedlen(params.iterations, params.memory_kib,
                                            params.parallelism, kSaltBytes, kHashBytes, Argon2_id);
  std::string encoded(len, '\0');  // len counts the terminating NUL
  const int rc = argon2id_hash_encoded(params.iterations, params.memory_kib, params.parallelism,
                                       password.data(), password.size(), salt.data(), salt.size(),
                                       kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return util::Internal(std::string("argon2id hashing failed: ") + argon2_error_message(rc));
  }
  encoded.resize(encoded.find('\0'));
  return encoded;
}

Result<bool> VerifyPassword(std::string_view encoded, std::string_view password) {
  // Checked before Argon2 runs: the encoding decides how much memory and time it takes.
  auto params = ParseArgon2Encoding(encoded);
  if (!params.ok()) return params.status();
  const std::string terminated(encoded);  // libargon2 wants a C string
  const int rc = argon2id_verify(terminated.c_str(), password.data(), password.size());
  switch (rc) {
    case ARGON2_OK:
      return true;
    case ARGON2_VERIFY_MISMATCH:
      return false;
    case ARGON2_DECODING_FAIL:
    case ARGON2_DECODING_LENGTH_FAIL:
    case ARGON2_SALT_TOO_SHORT:
    case ARGON2_SALT_TOO_LONG:
    case ARGON2_OUTPUT_TOO_SHORT:
    case ARGON2_OUTPUT_TOO_LONG:
    case ARGON2_INCORRECT_TYPE:
      return Malformed(argon2_error_message(rc));
    default:
      return util::Internal(std::string("argon2id verification failed: ") +
                            argon2_error_message(rc));
  }
}

}  // namespace bluetrace::store
