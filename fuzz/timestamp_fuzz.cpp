// Fuzzes ParseTimestamp/FormatTimestamp in UTC. Whatever parses must format back to exactly
// the input (one spelling per second); a rejection must be kInvalidArgument. The first 8
// bytes, read as a number of seconds, must also format to text that parses back to the
// same second once clamped to the accepted years.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bluetrace/protocol/timestamp.hpp"

namespace {

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bluetrace::protocol;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseTimestamp(text);
  if (parsed.ok()) {
    Check(FormatTimestamp(*parsed) == text);
  } else {
    Check(parsed.status().code() == bluetrace::util::StatusCode::kInvalidArgument);
  }

  if (size >= 8) {
    std::uint64_t raw = 0;
    for (std::size_t i = 0; i < 8; ++i) raw = (raw << 8) | data[i];
    const auto seconds = static_cast<std::int64_t>(raw);
    const std::string formatted = FormatTimestamp(seconds);
    auto back = ParseTimestamp(formatted);
    Check(back.ok());
    constexpr std::int64_t kLast = 253'402'300'799;  // 31/12/9999 23:59:59
    const std::int64_t clamped = seconds < 0 ? 0 : seconds > kLast ? kLast : seconds;
    Check(*back == clamped);
  }
  return 0;
}
