#include "bluetrace/service/client_config.hpp"

#include "bluetrace/util/config_reader.hpp"
#include "config_common.hpp"

namespace bluetrace::service {
namespace {

using util::ConfigReader;
using util::InvalidArgument;
using util::Status;

}  // namespace

Status ParseClientConfig(std::string_view toml_text, std::string_view source_name,
                         ClientOptions& o) {
  BLUETRACE_ASSIGN_OR_RETURN(auto parsed, ConfigReader::Parse(toml_text, source_name));
  ConfigReader& r = parsed;

  BLUETRACE_RETURN_IF_ERROR(r.Get("client.data_dir", o.data_dir));
  BLUETRACE_RETURN_IF_ERROR(GetTimeZone(r, "client.time_zone", o.time_mode));
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
  if (!util::IsIpLiteral(o.udp_bind_address)) {
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
  s += "data_dir = " + util::TomlQuote(o.data_dir) + "\n";
  s += "time_zone = " + FormatTimeZone(o.time_mode) + "\n";
  s += "udp_bind_address = " + util::TomlQuote(o.udp_bind_address) + "\n";
  s += "\n[tls]\n";
  s += "ca_file = " + util::TomlQuote(o.ca_file) + "\n";
  s += "known_servers = " + util::TomlQuote(o.known_servers_file) + "\n";
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
