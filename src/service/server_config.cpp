#include "bluetrace/service/server_config.hpp"

#include <charconv>
#include <string>
#include <utility>
#include <vector>

#include "bluetrace/util/config_reader.hpp"
#include "config_common.hpp"

namespace bluetrace::service {
namespace {

using util::ConfigReader;
using util::InvalidArgument;
using util::Status;

Status ReadRate(ConfigReader& r, const std::string& prefix, RateLimit& rate) {
  BLUETRACE_RETURN_IF_ERROR(r.Get(prefix + "_per_second", rate.per_second, 0.001, 1e6));
  BLUETRACE_RETURN_IF_ERROR(r.Get(prefix + "_burst", rate.burst, 1.0, 1e6));
  return Status::Ok();
}

// The shortest text that reads back as exactly `v`, as a TOML float.
std::string Num(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, ec == std::errc() ? end : buf);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

}  // namespace

Status ParseServerConfig(std::string_view toml_text, std::string_view source_name,
                         ServerConfig& c) {
  auto parsed = ConfigReader::Parse(toml_text, source_name);
  if (!parsed.ok()) return parsed.status();
  ConfigReader& r = *parsed;

  BLUETRACE_RETURN_IF_ERROR(r.Get("server.bind_address", c.bind_address));
  BLUETRACE_RETURN_IF_ERROR(r.Get("server.port", c.port, 0, 65535));
  BLUETRACE_RETURN_IF_ERROR(r.Get("server.state_dir", c.state_dir));
  BLUETRACE_RETURN_IF_ERROR(r.Get("server.io_threads", c.io_threads, 1, 64));
  BLUETRACE_RETURN_IF_ERROR(r.Get("server.console_output", c.console_output));
  BLUETRACE_RETURN_IF_ERROR(GetTimeZone(r, "server.time_zone", c.time_mode));
  BLUETRACE_RETURN_IF_ERROR(r.Get("server.log_level", c.log_level));

  BLUETRACE_RETURN_IF_ERROR(r.Get("auth.block_duration", c.block_duration_seconds,
                                  kMinBlockDurationSeconds, kMaxBlockDurationSeconds));
  BLUETRACE_RETURN_IF_ERROR(r.Get("auth.max_failed_logins", c.max_failed_logins, 1, 100));
  BLUETRACE_RETURN_IF_ERROR(r.Get("auth.registration", c.registration_enabled));
  BLUETRACE_RETURN_IF_ERROR(r.Get("auth.min_password_length", c.min_password_length, 1, 64));
  BLUETRACE_RETURN_IF_ERROR(r.Get("auth.max_password_length", c.max_password_length, 64, 1024));
  BLUETRACE_RETURN_IF_ERROR(
      r.Get("auth.argon2_memory_kib", c.argon2_memory_kib, 8, 4 * 1024 * 1024));
  BLUETRACE_RETURN_IF_ERROR(r.Get("auth.argon2_iterations", c.argon2_iterations, 1, 100));
  BLUETRACE_RETURN_IF_ERROR(r.Get("auth.argon2_parallelism", c.argon2_parallelism, 1, 64));
  BLUETRACE_RETURN_IF_ERROR(r.Get("auth.argon2_workers", c.argon2_workers, 1, 256));
  BLUETRACE_RETURN_IF_ERROR(r.Get("auth.argon2_queue_depth", c.argon2_queue_depth, 1, 100000));
  BLUETRACE_RETURN_IF_ERROR(
      r.Get("auth.argon2_queue_per_source", c.argon2_queue_per_source, 1, 100000));
  BLUETRACE_RETURN_IF_ERROR(r.Get("auth.device_lockout", c.device_lockout));
  BLUETRACE_RETURN_IF_ERROR(
      r.Get("auth.max_tracked_unknown_users", c.max_tracked_unknown_users, 16, 10000000));

  BLUETRACE_RETURN_IF_ERROR(r.Get("tempid.lifetime", c.tempid_lifetime_seconds, 1, 7 * kDay));
  BLUETRACE_RETURN_IF_ERROR(r.Get("tempid.retention", c.tempid_retention_seconds, 0, 3650 * kDay));

  BLUETRACE_RETURN_IF_ERROR(r.Get("tls.certificate", c.certificate_file));
  BLUETRACE_RETURN_IF_ERROR(r.Get("tls.private_key", c.private_key_file));
  BLUETRACE_RETURN_IF_ERROR(r.Get("tls.min_version", c.tls_min_version));

  BLUETRACE_RETURN_IF_ERROR(r.Get("limits.max_frame_bytes", c.max_frame_bytes, 64, 64 << 20));
  BLUETRACE_RETURN_IF_ERROR(
      r.Get("limits.max_upload_bytes", c.max_upload_bytes, 64, std::int64_t{1} << 32));
  BLUETRACE_RETURN_IF_ERROR(r.Get("limits.max_upload_entries", c.max_upload_entries, 1, 100000000));
  BLUETRACE_RETURN_IF_ERROR(r.Get("limits.max_connections", c.max_connections, 1, 1000000));
  BLUETRACE_RETURN_IF_ERROR(
      r.Get("limits.max_connections_per_address", c.max_connections_per_address, 1, 1000000));
  BLUETRACE_RETURN_IF_ERROR(ReadRate(r, "limits.connections", c.connection_rate));
  BLUETRACE_RETURN_IF_ERROR(ReadRate(r, "limits.logins", c.login_rate));
  BLUETRACE_RETURN_IF_ERROR(ReadRate(r, "limits.tempids", c.tempid_rate));
  BLUETRACE_RETURN_IF_ERROR(
      r.Get("limits.max_pending_write_bytes", c.max_pending_write_bytes, 4096, 1 << 30));

  BLUETRACE_RETURN_IF_ERROR(r.Get("timeouts.handshake", c.handshake_timeout, 1, 3600));
  BLUETRACE_RETURN_IF_ERROR(r.Get("timeouts.login", c.login_timeout, 1, 3600));
  BLUETRACE_RETURN_IF_ERROR(r.Get("timeouts.idle", c.idle_timeout, 1, 86400));
  BLUETRACE_RETURN_IF_ERROR(r.Get("timeouts.write", c.write_timeout, 1, 3600));
  BLUETRACE_RETURN_IF_ERROR(r.Get("timeouts.shutdown_grace", c.shutdown_grace, 0, 3600));

  BLUETRACE_RETURN_IF_ERROR(r.Get("ops.metrics_address", c.metrics_address));

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
  if (!c.metrics_address.empty()) {
    std::string host;
    std::uint16_t port = 0;
    BLUETRACE_RETURN_IF_ERROR(ParseMetricsAddress(c.metrics_address, host, port));
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
  auto u = [](auto v) { return std::to_string(v); };
  auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  std::string s;
  s += "[server]\n";
  s += "bind_address = " + util::TomlQuote(c.bind_address) + "\n";
  s += "port = " + u(c.port) + "\n";
  s += "state_dir = " + util::TomlQuote(c.state_dir) + "\n";
  s += "io_threads = " + u(c.io_threads) + "\n";
  s += "console_output = " + b(c.console_output) + "\n";
  s += "time_zone = " + FormatTimeZone(c.time_mode) + "\n";
  s += "log_level = " + util::TomlQuote(c.log_level) + "\n";
  s += "\n[auth]\n";
  s += "block_duration = " + u(c.block_duration_seconds) + "\n";
  s += "max_failed_logins = " + u(c.max_failed_logins) + "\n";
  s += "registration = " + b(c.registration_enabled) + "\n";
  s += "min_password_length = " + u(c.min_password_length) + "\n";
  s += "max_password_length = " + u(c.max_password_length) + "\n";
  s += "argon2_memory_kib = " + u(c.argon2_memory_kib) + "\n";
  s += "argon2_iterations = " + u(c.argon2_iterations) + "\n";
  s += "argon2_parallelism = " + u(c.argon2_parallelism) + "\n";
  s += "argon2_workers = " + u(c.argon2_workers) + "\n";
  s += "argon2_queue_depth = " + u(c.argon2_queue_depth) + "\n";
  s += "argon2_queue_per_source = " + u(c.argon2_queue_per_source) + "\n";
  s += "device_lockout = " + b(c.device_lockout) + "\n";
  s += "max_tracked_unknown_users = " + u(c.max_tracked_unknown_users) + "\n";
  s += "\n[tempid]\n";
  s += "lifetime = " + u(c.tempid_lifetime_seconds) + "\n";
  s += "retention = " + u(c.tempid_retention_seconds) + "\n";
  s += "\n[tls]\n";
  s += "certificate = " + util::TomlQuote(c.certificate_file) + "\n";
  s += "private_key = " + util::TomlQuote(c.private_key_file) + "\n";
  s += "min_version = " + util::TomlQuote(c.tls_min_version) + "\n";
  s += "\n[limits]\n";
  s += "max_frame_bytes = " + u(c.max_frame_bytes) + "\n";
  s += "max_upload_bytes = " + u(c.max_upload_bytes) + "\n";
  s += "max_upload_entries = " + u(c.max_upload_entries) + "\n";
  s += "max_connections = " + u(c.max_connections) + "\n";
  s += "max_connections_per_address = " + u(c.max_connections_per_address) + "\n";
  s += "connections_per_second = " + Num(c.connection_rate.per_second) + "\n";
  s += "connections_burst = " + Num(c.connection_rate.burst) + "\n";
  s += "logins_per_second = " + Num(c.login_rate.per_second) + "\n";
  s += "logins_burst = " + Num(c.login_rate.burst) + "\n";
  s += "tempids_per_second = " + Num(c.tempid_rate.per_second) + "\n";
  s += "tempids_burst = " + Num(c.tempid_rate.burst) + "\n";
  s += "max_pending_write_bytes = " + u(c.max_pending_write_bytes) + "\n";
  s += "\n[timeouts]\n";
  s += "handshake = " + u(c.handshake_timeout) + "\n";
  s += "login = " + u(c.login_timeout) + "\n";
  s += "idle = " + u(c.idle_timeout) + "\n";
  s += "write = " + u(c.write_timeout) + "\n";
  s += "shutdown_grace = " + u(c.shutdown_grace) + "\n";
  s += "\n[ops]\n";
  s += "metrics_address = " + util::TomlQuote(c.metrics_address) + "\n";
  return s;
}

namespace {

// "section.key" -> "value" for every key line of FormatServerConfig's output, in order.
std::vector<std::pair<std::string, std::string>> KeyLines(const ServerConfig& c) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string section;
  const std::string text = FormatServerConfig(c);
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.size() > 2 && line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
    } else if (const auto eq = line.find(" = "); eq != std::string::npos && line[0] != '#') {
      out.emplace_back(section + "." + line.substr(0, eq), line.substr(eq + 3));
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> ChangedKeys(const ServerConfig& a, const ServerConfig& b) {
  const auto left = KeyLines(a);
  const auto right = KeyLines(b);
  std::vector<std::string> changed;
  for (std::size_t i = 0; i < left.size() && i < right.size(); ++i) {
    if (left[i].second != right[i].second) changed.push_back(left[i].first);
  }
  return changed;
}

bool IsLiveKey(std::string_view key) { return key == "server.log_level"; }

}  // namespace bluetrace::service
