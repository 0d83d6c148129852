#include "bluetrace/service/client_config.hpp"

#include <arpa/inet.h>

#include "bluetrace/util/config_reader.hpp"

namespace bluetrace::service {
namespace {

using util::ConfigReader;
using util::InvalidArgument;
using util::Status;

constexpr std::int64_t kDay = 24 * 3600;

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

Status ParseClientConfig(std::string_view toml_text, std::string_view source_name,
                         ClientOptions& o) {
  auto parsed = ConfigReader::Parse(toml_text, source_name);
  if (!parsed.ok()) return parsed.status();
  ConfigReader& r = *parsed;

  BLUETRACE_RETURN_IF_ERROR(r.Get("client.data_dir", o.data_dir));
  std::string time_zone;
  BLUETRACE_RETURN_IF_ERROR(r.Get("client.time_zone", time_zone));
  if (r.Has("client.time_zone")) {
    if (time_zone == "utc") {
      o.time_mode = protocol::TimeZoneMode::kUtc;
    } else if (time_zone == "local") {
      o.time_mode = protocol::TimeZoneMode::kLocal;
    } else {
      return InvalidArgument(std::string(source_name) +
                             ": client.time_zone: must be \"utc\" or \"local\", got \"" +
                             time_zone + "\"");
    }
  }
  BLUETRACE_RETURN_IF_ERROR(r.Get("client.udp_bind_address", o.udp_bind_address));

  BLUETRACE_RETURN_IF_ERROR(r.Get("tls.ca_file", o.ca_file));
  BLUETRACE_RETURN_IF_ERROR(r.Get("tls.known_servers", o.known_servers_file));

  BLUETRACE_RETURN_IF_ERROR(
      r.Get("contact_log.retention", o.contact_retention_seconds, 1, 3650 * kDay));
  BLUETRACE_RETURN_IF_ERROR(
      r.Get("contact_log.max_entries", o.max_contact_log_entries, 1, 10'000'000));

  BLUETRACE_RETURN_IF_ERROR(r.Get("tempid.renew_margin", o.tempid_renew_margin_seconds, 0, kDay));

  BLUETRACE_RETURN_IF_ERROR(r.Get("timeouts.ping_interval", o.ping_interval_seconds, 1, kDay));
  BLUETRACE_RETURN_IF_ERROR(r.Get("timeouts.request", o.timeout_seconds, 1, 3600));

  return r.CheckNoUnknownKeys();
}

Status ValidateClientOptions(const ClientOptions& o) {
  unsigned char buf[16];
  const char* a = o.udp_bind_address.c_str();
  if (inet_pton(AF_INET, a, buf) != 1 && inet_pton(AF_INET6, a, buf) != 1) {
    return InvalidArgument("client.udp_bind_address: must be an IPv4 or IPv6 address, got \"" +
                           o.udp_bind_address + "\"");
  }
  if (o.data_dir.empty()) return InvalidArgument("client.data_dir: must not be empty");
  return Status::Ok();
}

std::string FormatClientConfig(const ClientOptions& o) {
  auto u = [](auto v) { return std::to_string(v); };
  std::string s;
  s += "[client]\n";
  s += "data_dir = " + Quote(o.data_dir) + "\n";
  s += std::string("time_zone = ") +
       (o.time_mode == protocol::TimeZoneMode::kUtc ? "\"utc\"" : "\"local\"") + "\n";
  s += "udp_bind_address = " + Quote(o.udp_bind_address) + "\n";
  s += "\n[tls]\n";
  s += "ca_file = " + Quote(o.ca_file) + "\n";
  s += "known_servers = " + Quote(o.known_servers_file) + "\n";
  s += "\n[contact_log]\n";
  s += "retention = " + u(o.contact_retention_seconds) + "\n";
  s += "max_entries = " + u(o.max_contact_log_entries) + "\n";
  s += "\n[tempid]\n";
  s += "renew_margin = " + u(o.tempid_renew_margin_seconds) + "\n";
  s += "\n[timeouts]\n";
  s += "ping_interval = " + u(o.ping_interval_seconds) + "\n";
  s += "request = " + u(o.timeout_seconds) + "\n";
  return s;
}

}  // namespace bluetrace::service
