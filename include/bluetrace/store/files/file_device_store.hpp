// FileDeviceStore: the devices each user has logged in from, so that failed logins from
// elsewhere cannot lock a user out of a device the server already knows (the "device
// cookie" defence; docs/SECURITY.md, "Lockout as denial of service").
//
// A device is known by a token the server issued to it at a successful login. The store
// keeps only the SHA-256 of each token: the file <state_dir>/devices.txt holds one line
// "<user> <sha256 hex of the token> <issued unix>" per token, appended and fdatasynced
// before the token is handed out. At most kMaxDevicesPerUser tokens per user stay valid;
// issuing another retires that user's oldest. Open drops a torn last line (a crash
// mid-append) and rewrites the file without retired lines once they are the majority.
//
// Thread-safe. The FileSystem and Clock must outlive the store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "bluetrace/store/device_store.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"
#include "bluetrace/util/status.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::store {

class FileDeviceStore final : public DeviceStore {
 public:
  // Loads `path` (a missing file is an empty store). kCorruption naming the file and the
  // line for a malformed line; I/O errors as FileSystem reports them. `note` (optional)
  // says what Open repaired or compacted.
  static Result<std::unique_ptr<FileDeviceStore>> Open(FileSystem& fs, const util::Clock& clock,
                                                       std::string path,
                                                       std::string* note = nullptr);

  FileDeviceStore(const FileDeviceStore&) = delete;
  FileDeviceStore& operator=(const FileDeviceStore&) = delete;

  // The device's id (the first 16 hex digits of its token's hash) when `token` is a valid
  // token of `user`; nullopt for anything else (wrong user, retired, malformed, empty).
  std::optional<std::string> Find(std::string_view user, std::string_view token) const override
      EXCLUDES(mu_);

  // A new token for `user`, durable before it is returned. Errors: the Random's, and the
  // FileSystem's (nothing is remembered then).
  Result<std::string> Issue(std::string_view user, util::Random& random) override EXCLUDES(mu_);

  // Valid tokens in all.
  std::size_t size() const override EXCLUDES(mu_);

 private:
  struct Device {
    std::string hash;  // 64 hex digits
    std::int64_t issued = 0;
  };
  FileDeviceStore(FileSystem& fs, const util::Clock& clock, std::string path)
      : fs_(fs), clock_(clock), path_(std::move(path)) {}
  // Adds a device to `user`'s list, retiring the oldest beyond the limit; true if it did.
  bool Remember(const std::string& user, Device device) REQUIRES(mu_);
  std::string Serialize() const REQUIRES(mu_);

  FileSystem& fs_;
  const util::Clock& clock_;
  const std::string path_;
  mutable util::Mutex mu_;
  std::unordered_map<std::string, std::deque<Device>> devices_ GUARDED_BY(mu_);  // oldest first
  std::size_t size_ GUARDED_BY(mu_) = 0;
  util::Mutex append_mu_;  // one append (and its sync) at a time; taken before mu_
  std::unique_ptr<AppendFile> file_ GUARDED_BY(append_mu_);
  bool broken_ GUARDED_BY(append_mu_) = false;
};

}  // namespace bluetrace::store
