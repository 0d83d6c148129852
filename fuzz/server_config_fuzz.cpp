// Fuzzes the server's configuration parser (ParseServerConfig: toml++ through ConfigReader,
// then the type and range checks). Invariants: a rejected file is kInvalidArgument naming
// the source; a config that parses, printed by FormatServerConfig (--print-config) and
// parsed again, is the same config. Inputs over 64 KiB are skipped: a configuration file
// is small, and size alone should not decide how deep toml++ recurses.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bluetrace/service/server_config.hpp"

namespace {

using namespace bluetrace;  // NOLINT

constexpr std::size_t kMaxInput = 64 * 1024;

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

bool SameRate(const service::RateLimit& a, const service::RateLimit& b) {
  return a.per_second == b.per_second && a.burst == b.burst;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxInput) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  service::ServerConfig config;
  const util::Status st = service::ParseServerConfig(text, "server.toml", config);
  if (!st.ok()) {
    Check(st.code() == util::StatusCode::kInvalidArgument);
    Check(st.message().rfind("server.toml: ", 0) == 0);
    return 0;
  }
  // Every key is printed, so the defaults of `again` do not matter; the printed text is
  // injective in every field except the floating-point rates, compared on their own.
  const std::string printed = service::FormatServerConfig(config);
  service::ServerConfig again;
  again.port = static_cast<std::uint16_t>(config.port + 1);
  Check(service::ParseServerConfig(printed, "printed.toml", again).ok());
  Check(service::FormatServerConfig(again) == printed);
  Check(SameRate(again.connection_rate, config.connection_rate));
  Check(SameRate(again.login_rate, config.login_rate));
  Check(SameRate(again.tempid_rate, config.tempid_rate));
  return 0;
}
