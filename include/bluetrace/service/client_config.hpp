// The configuration file of bluetrace-client: reads TOML into ClientOptions (whose fields
// carry the defaults, client_controller.hpp). config/client.toml documents every key with
// its default. The command line supplies the server and the UDP port (the original's
// `client <server_IP> <server_port> <client_udp_port>`), so they are not keys here.
//
// Keys (table.key -> ClientOptions field):
//   client.data_dir            -> data_dir
//   client.time_zone           -> time_mode ("utc" | "local")
//   client.udp_bind_address    -> udp_bind_address
//   tls.ca_file                -> ca_file
//   tls.known_servers          -> known_servers_file
//   contact_log.retention      -> contact_retention_seconds
//   contact_log.max_entries    -> max_contact_log_entries
//   tempid.renew_margin        -> tempid_renew_margin_seconds
//   timeouts.ping_interval     -> ping_interval_seconds
//   timeouts.request           -> timeout_seconds
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "bluetrace/service/client_controller.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::service {

// Reads TOML text into `options`; keys not present keep their current values (defaults,
// then the file, then flags). Unknown keys and tables are errors naming the key; a value
// of the wrong type or out of range names `source_name`, the key and the value, e.g.
// "client.toml: contact_log.retention: must be between 1 and 315360000, got 0".
util::Status ParseClientConfig(std::string_view toml_text, std::string_view source_name,
                               ClientOptions& options);

// Cross-field and format checks after every source (flags included) has been applied:
// the UDP bind address must be an IP literal, data_dir non-empty.
util::Status ValidateClientOptions(const ClientOptions& options);

// The keys above as TOML, every one present (for --print-config and tests).
std::string FormatClientConfig(const ClientOptions& options);

}  // namespace bluetrace::service
