// DeviceTokens: the client's side of the device tokens (protocol version 2): the token
// each server gave this device for each user, kept so that the next login presents it and
// failed logins from elsewhere cannot block this device (docs/SECURITY.md).
//
// One line "<host>:<port> <user> <token>" per server and user, the token 64 lower-case
// hex digits. The file holds secrets: it is rewritten atomically with mode 0600 in a
// directory created 0700. Reads are thread-safe; concurrent Remember calls for one file
// need external serialisation.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "bluetrace/store/file_system.hpp"

namespace bluetrace::store {

class DeviceTokens {
 public:
  // `fs` must outlive this object.
  DeviceTokens(FileSystem& fs, std::string path) : fs_(fs), path_(std::move(path)) {}

  // The token remembered for `server` ("<host>:<port>", see KnownServerKey) and `user`;
  // nullopt when there is none or no file. kCorruption naming the file and the line for a
  // malformed line; the FileSystem's other errors.
  util::Result<std::optional<std::string>> Lookup(std::string_view server,
                                                  std::string_view user) const;

  // Adds or replaces the token of `server` and `user`. kInvalidArgument for a field with
  // spaces or a token that is not 64 hex digits; Lookup's errors; the FileSystem's.
  util::Status Remember(std::string_view server, std::string_view user, std::string_view token);

  const std::string& path() const { return path_; }

 private:
  FileSystem& fs_;
  const std::string path_;
};

// The device-token file that goes with a known-servers file: "device_tokens" in the same
// directory.
std::string DeviceTokensPathBeside(const std::string& known_servers_path);

}  // namespace bluetrace::store
