// Random: the one source of randomness (TempIDs, Argon2 salts, dummy hashes).
//
// Production code uses OpenSslRandom (the OpenSSL CSPRNG); tests inject a deterministic
// generator through the same interface. Implementations are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "bluetrace/util/status.hpp"

namespace bluetrace::util {

class Random {
 public:
  virtual ~Random() = default;

  // Fills `out` with random bytes. Fails only when the generator cannot produce
  // cryptographically strong output (OpenSSL's RAND_bytes failing).
  virtual Status Fill(std::span<std::uint8_t> out) = 0;
};

// OpenSSL's RAND_bytes.
class OpenSslRandom final : public Random {
 public:
  Status Fill(std::span<std::uint8_t> out) override;
  static OpenSslRandom& Instance();
};

// A uniform integer in [0, bound) with no modulo bias (rejection sampling). bound > 0.
Result<std::uint64_t> UniformBelow(Random& random, std::uint64_t bound);

}  // namespace bluetrace::util
