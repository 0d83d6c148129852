// Helpers shared by the text-format parsers of src/protocol/ (not a public interface).
#pragma once

#include <string>
#include <string_view>

#include "bluetrace/util/status.hpp"

namespace bluetrace::protocol::detail {

// How an error message shows one input byte: 'x' for printable ASCII, else "byte 0xNN", so
// control characters and broken UTF-8 never reach a terminal or a log raw.
inline std::string DescribeByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xf];
}

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The canonical UserID that starts a record line and ends at its first space (or the line's
// end). Errors start with "UserID: "; a number written with spaces gets a hint, since that
// form is valid elsewhere but not inside a space-separated record. Defined in phone.cpp.
util::Result<std::string> ParseUserIdField(std::string_view line);

}  // namespace bluetrace::protocol::detail
