#include "bluetrace/store/password_hash.hpp"

#include <argon2.h>
#include <openssl/crypto.h>

#include <array>
#include <string>
#include <vector>

#include "bluetrace/util/secret.hpp"

namespace bluetrace::store {

using util::Result;
using util::Status;

namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::uint32_t kHashBytes = 32;

}  // namespace

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
  // Parsed and bounded before Argon2 runs (the encoding decides how much memory and time it
  // takes), by the parser the credentials.txt loader uses; libargon2 then works from the
  // parsed values and never reads the text itself.
  BLUETRACE_ASSIGN_OR_RETURN(protocol::Argon2Encoding parsed,
                             protocol::ParseArgon2Encoding(encoded));
  if (password.size() > ARGON2_MAX_PWD_LENGTH) return util::InvalidArgument("password too long");
  std::vector<std::uint8_t> computed(parsed.hash.size());
  argon2_context ctx{};
  ctx.out = computed.data();
  ctx.outlen = static_cast<std::uint32_t>(computed.size());
  // libargon2 only reads the password (ARGON2_DEFAULT_FLAGS does not ask it to wipe it).
  ctx.pwd = const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(password.data()));
  ctx.pwdlen = static_cast<std::uint32_t>(password.size());
  ctx.salt = parsed.salt.data();
  ctx.saltlen = static_cast<std::uint32_t>(parsed.salt.size());
  ctx.t_cost = parsed.params.iterations;
  ctx.m_cost = parsed.params.memory_kib;
  ctx.lanes = parsed.params.parallelism;
  ctx.threads = parsed.params.parallelism;
  ctx.version = ARGON2_VERSION_13;
  ctx.flags = ARGON2_DEFAULT_FLAGS;
  // Recomputes into ctx.out and compares it with the stored hash in constant time.
  const int rc = argon2id_verify_ctx(&ctx, reinterpret_cast<const char*>(parsed.hash.data()));
  OPENSSL_cleanse(computed.data(), computed.size());
  switch (rc) {
    case ARGON2_OK:
      return true;
    case ARGON2_VERIFY_MISMATCH:
      return false;
    default:
      return util::Internal(std::string("argon2id verification failed: ") +
                            argon2_error_message(rc));
  }
}

Result<std::string> MakeDummyHash(const Argon2Params& params, util::Random& random) {
  std::array<std::uint8_t, 16> password_bytes{};
  BLUETRACE_RETURN_IF_ERROR(random.Fill(password_bytes));
  std::string password(password_bytes.begin(), password_bytes.end());
  for (char& c : password) c = static_cast<char>('a' + static_cast<unsigned char>(c) % 26);
  auto hash = HashPassword(password, params, random);
  util::WipeString(password);
  OPENSSL_cleanse(password_bytes.data(), password_bytes.size());
  return hash;
}

}  // namespace bluetrace::store
