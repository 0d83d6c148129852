#include "bluetrace/protocol/tempid.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace bluetrace::protocol {
namespace {

// Bytes 250-255 would make digits 0-5 slightly more likely than 6-9; they are redrawn.
constexpr std::uint8_t kRejectFrom = 250;
// A working CSPRNG rejects a whole batch with probability (6/256)^n; a generator stuck on
// bytes >= 250 is broken, and failing beats spinning forever.
constexpr int kMaxBatches = 1000;

}  // namespace

util::Result<TempId> TempId::Parse(std::string_view text) {
  if (text.size() != kSize) {
    return util::InvalidArgument("TempID must be 20 digits, got " + std::to_string(text.size()) +
                                 " bytes");
  }
  TempId id;
  for (std::size_t i = 0; i < kSize; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') {
      return util::InvalidArgument("TempID must be 20 digits, byte " + std::to_string(i + 1) +
                                   " is not a digit");
    }
    id.digits_[i] = c;
  }
  return id;
}

util::Result<TempId> TempId::Generate(util::Random& random) {
  TempId id;
  std::size_t filled = 0;
  std::array<std::uint8_t, kSize> batch{};
  // Each batch asks for exactly the digits still missing, so the common case is one call.
  for (int round = 0; round < kMaxBatches && filled < kSize; ++round) {
    const std::span<std::uint8_t> want(batch.data(), kSize - filled);
    BLUETRACE_RETURN_IF_ERROR(random.Fill(want));
    for (const std::uint8_t b : want) {
      if (b >= kRejectFrom) continue;
      id.digits_[filled++] = static_cast<char>('0' + b % 10);
    }
  }
  if (filled < kSize) {
    return util::Internal("random generator keeps producing bytes >= 250; TempID not generated");
  }
  return id;
}

TempIdInteger TempId::ToInteger() const {
  TempIdInteger value = 0;
  for (const char c : digits_) value = value * 10 + static_cast<unsigned>(c - '0');
  return value;
}

TempId TempId::FromInteger(TempIdInteger value) {
  // Fills from the last digit; digits above the 20th (value >= 10^20) are dropped.
  TempId id;
  for (std::size_t i = kSize; i-- > 0;) {
    id.digits_[i] = static_cast<char>('0' + static_cast<int>(value % 10));
    value /= 10;
  }
  return id;
}

}  // namespace bluetrace::protocol
