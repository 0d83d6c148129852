// TempId: the short-lived identifier a user broadcasts. "A 20-byte random number", written
// everywhere as 20 ASCII decimal digits (docs/ORIGINAL.md §2). Value type, thread-compatible.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "bluetrace/util/random.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::protocol {

// A 128-bit unsigned integer. `__extension__` keeps -Wpedantic quiet about the GNU type;
// code that names the type should use this alias rather than `unsigned __int128`.
__extension__ typedef unsigned __int128 TempIdInteger;

class TempId {
 public:
  static constexpr std::size_t kSize = 20;

  // Exactly 20 ASCII digits '0'-'9' (leading zeros allowed), else kInvalidArgument.
  static util::Result<TempId> Parse(std::string_view text);

  // 20 digits, each uniform over 0-9 with no modulo bias, from `random` (the OpenSSL CSPRNG
  // in production). Fails only if the generator fails.
  static util::Result<TempId> Generate(util::Random& random);

  std::string_view view() const { return {digits_.data(), digits_.size()}; }
  std::string ToString() const { return std::string(view()); }

  // A compact 128-bit form (the decimal value) for indexes, and back.
  TempIdInteger ToInteger() const;
  static TempId FromInteger(TempIdInteger value);  // value < 10^20; higher digits are dropped

  friend bool operator==(const TempId&, const TempId&) = default;
  friend auto operator<=>(const TempId&, const TempId&) = default;

 private:
  std::array<char, kSize> digits_{};
};

}  // namespace bluetrace::protocol

template <>
struct std::hash<bluetrace::protocol::TempId> {
  std::size_t operator()(const bluetrace::protocol::TempId& id) const noexcept {
    return std::hash<std::string_view>()(id.view());
  }
};
