// KnownServers: the client's trust-on-first-use file, as SSH's known_hosts: one line
// "<host>:<port> <fingerprint>" per server whose certificate the user accepted, the
// fingerprint in net/certificate.hpp's format ("SHA256:AB:CD:..."). IPv6 hosts are written
// in brackets ("[::1]:4000"). Blank lines and lines starting with '#' are kept as they are.
//
// The file is small and read on every Lookup, so an edit by the user (removing a line after
// a deliberate certificate change) takes effect at once. Remember rewrites it atomically
// with mode 0600 and creates its directory (mode 0700) when missing. Reads are
// thread-safe; concurrent Remember calls for one file need external serialisation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/digest.hpp"

namespace bluetrace::store {

class KnownServers {
 public:
  // `fs` must outlive this object.
  KnownServers(FileSystem& fs, std::string path) : fs_(fs), path_(std::move(path)) {}

  // The fingerprint remembered for `host_port` (see KnownServerKey); nullopt when there is
  // none or the file does not exist. kCorruption naming the file and the line for a line
  // that is not "<host>:<port> SHA256:<32 hex pairs>"; the FileSystem's other errors.
  util::Result<std::optional<std::string>> Lookup(std::string_view host_port) const;

  // Adds the line for `host_port`, or replaces the fingerprint of an existing one.
  // kInvalidArgument for a malformed host_port or fingerprint; Lookup's errors for a
  // malformed file (it is not overwritten); the FileSystem's errors.
  util::Status Remember(std::string_view host_port, std::string_view fingerprint);

  const std::string& path() const { return path_; }

 private:
  FileSystem& fs_;
  const std::string path_;
};

// "<host>:<port>", with an IPv6 literal in brackets: the key of a server's line.
std::string KnownServerKey(std::string_view host, std::uint16_t port);

// True for "SHA256:" followed by 32 upper-case hex byte pairs separated by colons (the
// format's owner is util/digest.hpp).
using util::IsSha256Fingerprint;

// $XDG_STATE_HOME/bluetrace/known_servers when XDG_STATE_HOME is set to an absolute path,
// else $HOME/.local/state/bluetrace/known_servers. kNotFound when neither is usable (the
// message says what to set instead).
util::Result<std::string> DefaultKnownServersPath();
// The same rule over given values (nullptr: unset); for tests and for callers that read the
// environment themselves.
util::Result<std::string> KnownServersPathFrom(const char* xdg_state_home, const char* home);

}  // namespace bluetrace::store
