#include "bluetrace/service/server_config.hpp"

#include <charconv>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "bluetrace/service/storage_config.hpp"
#include "bluetrace/util/config_reader.hpp"
#include "bluetrace/util/ip_literal.hpp"
#include "config_common.hpp"

namespace bluetrace::service {
namespace {

using util::ConfigReader;
using util::InvalidArgument;
using util::Status;

template <typename T>
inline constexpr bool kIsInt = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// Reads `key` from `r` into `c`: the same ConfigReader call (and so the same error text)
// whatever the field's type.
Status ReadKey(ConfigReader& r, const ServerConfigKey& key, ServerConfig& c) {
  const std::string name(key.name);
  return std::visit(
      [&](auto field) -> Status {
        using F = decltype(field);
        if constexpr (std::is_same_v<F, RateField>) {
          return r.Get(name, (c.*field.rate).*field.part, key.min, key.max);
        } else {
          auto& value = c.*field;
          using T = std::remove_reference_t<decltype(value)>;
          if constexpr (std::is_same_v<T, protocol::TimeZoneMode>) {
            return GetTimeZone(r, name, value);
          } else if constexpr (kIsInt<T>) {
            return r.Get(name, value, static_cast<std::int64_t>(key.min),
                         static_cast<std::int64_t>(key.max));
          } else {
            return r.Get(name, value);
          }
        }
      },
      key.field);
}

// The shortest text that reads back as exactly `v`, as a TOML float.
std::string Num(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, ec == std::errc() ? end : buf);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string_view SectionOf(std::string_view name) { return name.substr(0, name.find('.')); }

// How a flag's text becomes a TOML value.
enum class ValueKind { kText, kBool, kInteger, kFloat };

ValueKind KindOf(const ServerConfigKey& key) {
  return std::visit(
      [](auto field) {
        if constexpr (std::is_same_v<decltype(field), RateField>) {
          return ValueKind::kFloat;
        } else {
          using T = std::remove_cvref_t<decltype(std::declval<ServerConfig&>().*field)>;
          if constexpr (std::is_same_v<T, bool>) return ValueKind::kBool;
          if constexpr (kIsInt<T>) return ValueKind::kInteger;
          return ValueKind::kText;  // the time zone ("utc", "local"); strings too
        }
      },
      key.field);
}

}  // namespace

std::string FormatServerConfigValue(const ServerConfigKey& key, const ServerConfig& c) {
  return std::visit(
      [&](auto field) -> std::string {
        using F = decltype(field);
        if constexpr (std::is_same_v<F, RateField>) {
          return Num((c.*field.rate).*field.part);
        } else {
          const auto& value = c.*field;
          using T = std::remove_cvref_t<decltype(value)>;
          if constexpr (std::is_same_v<T, protocol::TimeZoneMode>) {
            return FormatTimeZone(value);
          } else if constexpr (std::is_same_v<T, bool>) {
            return value ? "true" : "false";
          } else if constexpr (std::is_same_v<T, std::string>) {
            return util::TomlQuote(value);
          } else {
            return std::to_string(value);
          }
        }
      },
      key.field);
}

Status ApplyServerConfigFlag(const ServerConfigKey& key, std::string_view text, ServerConfig& c) {
  // A string is taken byte for byte (a path need not be UTF-8); strings have no range
  // here, ValidateServerConfig checks them.
  if (const auto* member = std::get_if<std::string ServerConfig::*>(&key.field)) {
    c.** member = std::string(text);
    return Status::Ok();
  }
  const std::string flag(key.flag.empty() ? key.name : key.flag);
  const std::string name(key.name);
  // Any other value as TOML, so that it meets exactly the checks (and messages) of the file.
  std::string value;
  const char* const end = text.data() + text.size();
  switch (KindOf(key)) {
    case ValueKind::kText:
      value = util::TomlQuote(text);
      break;
    case ValueKind::kBool:
      if (text != "true" && text != "false") {
        return InvalidArgument(flag + ": " + name + ": must be true or false");
      }
      value = std::string(text);
      break;
    case ValueKind::kFloat: {
      double v = 0;
      const auto [ptr, ec] = std::from_chars(text.data(), end, v);
      if (text.empty() || ec != std::errc() || ptr != end) {
        return InvalidArgument(flag + ": " + name + ": must be a number, got " + std::string(text));
      }
      value = Num(v);
      break;
    }
    case ValueKind::kInteger: {
      std::int64_t v = 0;
      const auto [ptr, ec] = std::from_chars(text.data(), end, v);
      if (text.empty() || ec != std::errc() || ptr != end) {
        return InvalidArgument(flag + ": " + name + ": must be an integer, got " +
                               std::string(text));
      }
      value = std::to_string(v);
      break;
    }
  }
  const std::string_view section = SectionOf(key.name);
  return ParseServerConfig(
      "[" + std::string(section) + "]\n" + name.substr(section.size() + 1) + " = " + value + "\n",
      flag, c);
}

Status ParseServerConfig(std::string_view toml_text, std::string_view source_name,
                         ServerConfig& c) {
  BLUETRACE_ASSIGN_OR_RETURN(ConfigReader r, ConfigReader::Parse(toml_text, source_name));
  for (const ServerConfigKey& key : ServerConfigKeys())
    BLUETRACE_RETURN_IF_ERROR(ReadKey(r, key, c));
  return r.CheckNoUnknownKeys();
}

Status ValidateServerConfig(const ServerConfig& c) {
  if (!util::IsIpLiteral(c.bind_address)) {
    return InvalidArgument("server.bind_address: must be an IPv4 or IPv6 address, got \"" +
                           c.bind_address + "\"");
  }
  if (c.state_dir.empty()) return InvalidArgument("server.state_dir: must not be empty");
  if (c.tls_min_version != "1.3" && c.tls_min_version != "1.2") {
    return InvalidArgument("tls.min_version: must be \"1.3\" or \"1.2\", got \"" +
                           c.tls_min_version + "\"");
  }
  if (c.certificate_file.empty() != c.private_key_file.empty()) {
    return InvalidArgument(
        "tls.certificate and tls.private_key: set both, or neither (then the server uses "
        "<state_dir>/server.crt and server.key, creating them when missing)");
  }
  if (c.min_password_length > c.max_password_length) {
    return InvalidArgument("auth.min_password_length: must not exceed auth.max_password_length");
  }
  if (c.tempid_retention_seconds != 0 && c.tempid_retention_seconds < c.tempid_lifetime_seconds) {
    return InvalidArgument(
        "tempid.retention: must be 0 (keep every TempID) or at least "
        "tempid.lifetime");
  }
  if (c.audit_retention_seconds != 0 && c.audit_retention_seconds < kMinAuditRetentionSeconds) {
    return InvalidArgument("audit.retention: must be 0 (keep every record) or at least " +
                           std::to_string(kMinAuditRetentionSeconds) + " (one day), got " +
                           std::to_string(c.audit_retention_seconds) +
                           "; a shorter one would empty the audit trail");
  }
  if (!c.metrics_address.empty()) {
    std::string host;
    std::uint16_t port = 0;
    BLUETRACE_RETURN_IF_ERROR(ParseMetricsAddress(c.metrics_address, host, port));
  }
  if (!util::IsIpLiteral(c.console_address)) {
    return InvalidArgument("console.address: not an IP address: \"" + c.console_address + "\"");
  }
  if (c.console_absolute_timeout < c.console_idle_timeout) {
    return InvalidArgument("console.absolute_timeout: must be at least console.idle_timeout");
  }
  if (c.storage_backend != "files" && c.storage_backend != "postgres") {
    return InvalidArgument("storage.backend: must be \"files\" or \"postgres\", got \"" +
                           c.storage_backend + "\"");
  }
  if (c.storage_backend == "postgres") {
    BLUETRACE_RETURN_IF_ERROR(CheckPostgresConninfo(c.postgres_conninfo));
  }
  static const char* const kLevels[] = {"trace", "debug",    "info", "warn",
                                        "error", "critical", "off"};
  bool level_ok = false;
  for (const char* l : kLevels) level_ok = level_ok || c.log_level == l;
  if (!level_ok) {
    return InvalidArgument(
        "server.log_level: must be one of trace, debug, info, warn, error, critical, off; "
        "got \"" +
        c.log_level + "\"");
  }
  return Status::Ok();
}

Status ParseMetricsAddress(const std::string& text, std::string& host, std::uint16_t& port) {
  auto bad = [&text] {
    return InvalidArgument(
        "ops.metrics_address: must be \"<IPv4>:<port>\" or \"[<IPv6>]:<port>\", got \"" + text +
        "\"");
  };
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos) return bad();
  std::string h = text.substr(0, colon);
  const std::string p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
    if (h.find(':') == std::string::npos) return bad();  // brackets are for IPv6 only
  } else if (h.find(':') != std::string::npos) {
    return bad();  // an IPv6 address needs brackets
  }
  if (!util::IsIpLiteral(h) || p.empty() || p.size() > 5) return bad();
  std::uint32_t value = 0;
  for (char ch : p) {
    if (ch < '0' || ch > '9') return bad();
    value = value * 10 + static_cast<std::uint32_t>(ch - '0');
  }
  if (value > 65535) return bad();
  host = h;
  port = static_cast<std::uint16_t>(value);
  return Status::Ok();
}

std::string FormatServerConfig(const ServerConfig& c) {
  std::string s;
  std::string_view section;
  for (const ServerConfigKey& key : ServerConfigKeys()) {
    if (SectionOf(key.name) != section) {
      s += (section.empty() ? "[" : "\n[") + std::string(SectionOf(key.name)) + "]\n";
      section = SectionOf(key.name);
    }
    s += std::string(key.name.substr(section.size() + 1)) + " = " +
         FormatServerConfigValue(key, c) + "\n";
  }
  return s;
}

std::vector<std::string> ChangedKeys(const ServerConfig& a, const ServerConfig& b) {
  std::vector<std::string> changed;
  for (const ServerConfigKey& key : ServerConfigKeys()) {
    if (FormatServerConfigValue(key, a) != FormatServerConfigValue(key, b)) {
      changed.emplace_back(key.name);
    }
  }
  return changed;
}

bool IsLiveKey(std::string_view key) {
  const ServerConfigKey* found = FindServerConfigKey(key);
  return found != nullptr && found->live;
}

}  // namespace bluetrace::service
