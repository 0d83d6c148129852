// Fuzzes the client's configuration parser (ParseClientConfig: toml++ through
// ConfigReader, then the type and range checks). Invariants: a rejected file is
// kInvalidArgument naming the source; a config that parses, printed by FormatClientConfig
// (--print-config) and parsed again, is the same config. Inputs over 64 KiB are skipped,
// as in the server_config target.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bluetrace/service/client_config.hpp"

namespace {

using namespace bluetrace;  // NOLINT

constexpr std::size_t kMaxInput = 64 * 1024;

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxInput) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  service::ClientOptions options;
  const util::Status st = service::ParseClientConfig(text, "client.toml", options);
  if (!st.ok()) {
    Check(st.code() == util::StatusCode::kInvalidArgument);
    Check(st.message().rfind("client.toml: ", 0) == 0);
    return 0;
  }
  // Every key is printed and every field is printed exactly, so equal text is an equal
  // config; the defaults of `again` are moved away so a key that did not print shows up.
  const std::string printed = service::FormatClientConfig(options);
  service::ClientOptions again;
  again.timeout_seconds = options.timeout_seconds + 1;
  again.data_dir = options.data_dir + "x";
  Check(service::ParseClientConfig(printed, "printed.toml", again).ok());
  Check(service::FormatClientConfig(again) == printed);
  return 0;
}
