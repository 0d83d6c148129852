// Fuzzes protocol::ParseArgon2Encoding, which reads the secret of a credentials.txt line (attacker
// controlled when the file is tampered with) before libargon2 sees it. Invariants: a
// rejection is kInvalidArgument saying the encoding is malformed; accepted parameters lie
// within the validated ranges and are exactly the canonical numbers at the start of the
// encoding; and for encodings cheap enough to run, VerifyPassword (libargon2's own decoder)
// never fails with anything but a malformed-encoding error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bluetrace/protocol/argon2_encoding.hpp"
#include "bluetrace/store/password_hash.hpp"

namespace {

using namespace bluetrace;  // NOLINT

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view encoded(reinterpret_cast<const char*>(data), size);
  auto parsed = protocol::ParseArgon2Encoding(encoded);
  if (!parsed.ok()) {
    Check(parsed.status().code() == util::StatusCode::kInvalidArgument);
    Check(parsed.status().message().rfind("password hash is not a valid Argon2id encoding: ", 0) ==
          0);
    return 0;
  }
  const store::Argon2Params& p = parsed->params;
  Check(store::ValidateArgon2Params(p).ok());
  Check(p.parallelism >= 1 && p.parallelism <= store::kMaxArgon2Parallelism);
  Check(p.iterations >= 1 && p.iterations <= store::kMaxArgon2Iterations);
  Check(p.memory_kib >= 8 * p.parallelism && p.memory_kib <= store::kMaxArgon2MemoryKib);
  const std::string head = "$argon2id$v=19$m=" + std::to_string(p.memory_kib) +
                           ",t=" + std::to_string(p.iterations) +
                           ",p=" + std::to_string(p.parallelism) + "$";
  Check(encoded.substr(0, head.size()) == head);
  Check(parsed->salt.size() >= protocol::kMinArgon2SaltBytes &&
        parsed->salt.size() <= protocol::kMaxArgon2SaltBytes);
  Check(parsed->hash.size() >= protocol::kMinArgon2HashBytes &&
        parsed->hash.size() <= protocol::kMaxArgon2HashBytes);

  if (p.memory_kib <= 256 && p.iterations <= 2) {
    auto verified = store::VerifyPassword(encoded, "kara1234");
    Check(verified.ok() || verified.status().code() == util::StatusCode::kInvalidArgument);
  }
  return 0;
}
