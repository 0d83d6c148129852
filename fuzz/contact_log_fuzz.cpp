// Fuzzes ParseContactLog over a whole file. Every parsed entry must have expiry >= start
// and survive Format -> Parse unchanged; the entry limit must hold; a failure must be
// kInvalidArgument (a defect) or kResourceExhausted (the limit).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bluetrace/protocol/text_records.hpp"

namespace {

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

// Small enough that the fuzzer reaches it with short inputs.
constexpr std::size_t kMaxEntries = 8;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bluetrace::protocol;
  using bluetrace::util::StatusCode;
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  auto entries = ParseContactLog(content, "contactlog.txt", TimeZoneMode::kUtc, kMaxEntries);
  if (!entries.ok()) {
    const StatusCode code = entries.status().code();
    Check(code == StatusCode::kInvalidArgument || code == StatusCode::kResourceExhausted);
    Check(entries.status().message().rfind("contactlog.txt line ", 0) == 0);
    return 0;
  }
  Check(entries->size() <= kMaxEntries);
  for (const ContactLogEntry& entry : *entries) {
    Check(entry.start <= entry.expiry);
    const std::string line = FormatContactLogLine(entry);
    auto back = ParseContactLogLine(line);
    Check(back.ok());
    Check(*back == entry);
    Check(FormatContactLogLine(*back) == line);
  }
  return 0;
}
