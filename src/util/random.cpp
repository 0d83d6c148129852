#include "bluetrace/util/random.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <array>
#include <climits>
#include <cstring>
#include <string>

namespace bluetrace::util {

Status OpenSslRandom::Fill(std::span<std::uint8_t> out) {
  // RAND_bytes takes an int length; fill in bounded pieces.
  std::size_t done = 0;
  while (done < out.size()) {
    const std::size_t n = std::min<std::size_t>(out.size() - done, INT_MAX);
    if (RAND_bytes(out.data() + done, static_cast<int>(n)) != 1) {
      std::array<char, 256> buf{};
      ERR_error_string_n(ERR_get_error(), buf.data(), buf.size());
      return Unavailable(std::string("RAND_bytes failed: ") + buf.data());
    }
    done += n;
  }
  return Status::Ok();
}

OpenSslRandom& OpenSslRandom::Instance() {
  static OpenSslRandom random;
  return random;
}

Result<std::uint64_t> UniformBelow(Random& random, std::uint64_t bound) {
  if (bound == 0) return InvalidArgument("UniformBelow: bound must be positive");
  // Accept only draws below the largest multiple of `bound`, so every residue is equally
  // likely.
  const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % bound + 1) % bound;
  for (;;) {
    std::array<std::uint8_t, 8> b{};
    BLUETRACE_RETURN_IF_ERROR(random.Fill(b));
    std::uint64_t v = 0;
    for (auto x : b) v = (v << 8) | x;
    if (v <= limit) return v % bound;
  }
}

}  // namespace bluetrace::util
