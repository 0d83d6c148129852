// ServerDaemon: what bluetrace-server does besides serving connections, driven by an
// injected clock so that tests move simulated time instead of sleeping:
//  - RunDueWork(), about once a second: reloads the users when bluetrace-admin rewrote
//    credentials.txt or lockouts.txt, and compacts tempIDs.txt once an hour.
//  - Reload(), at SIGHUP: the certificate of the protocol port and of the console (the old
//    one stays when the new one is bad; open connections keep theirs), the
//    user files, and the configuration: live keys (server.log_level) take effect, every
//    other changed key is named as needing a restart.
// In net/ because a reload replaces the TLS context of a net::Server and a ConsoleServer.
//
// Ownership: borrows everything in ServerDaemonParts; they must outlive it. Not
// thread-safe: one controlling thread (main's signal loop) calls every method.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bluetrace/net/certificate.hpp"
#include "bluetrace/net/certificate_validity.hpp"
#include "bluetrace/net/server.hpp"
#include "bluetrace/service/reporting_service.hpp"
#include "bluetrace/service/server_config.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::net {

class ConsoleServer;

// The configuration built again from its sources (defaults, file, flags), for SIGHUP.
using ConfigSource = std::function<util::Result<service::ServerConfig>()>;

struct ServerDaemonParts {
  Server& server;
  service::ReportingService& service;
  store::FileSystem& fs;  // the user files' metadata, the certificate on reload
  const util::Clock& clock;
  CertificateValidityWatch& certificate_validity;
  ServerCertificate certificate;  // the files a reload loads the TLS context from
  ConfigSource reread_config;
  // The contact tracers' console, which serves the same certificate; null when it is off.
  ConsoleServer* console = nullptr;
};

// What one RunDueWork() call did.
struct DueWork {
  bool users_reloaded = false;  // attempted: a user file changed on disk (errors are logged)
  bool compacted = false;       // TempID compaction ran (errors are logged)
};

// What one Reload() did; each failure is logged too.
struct ReloadReport {
  util::Status certificate;                // OK: new connections (console's too) use it
  util::Status users;                      // OK: credentials.txt and lockouts.txt re-read
  util::Status config;                     // OK: the configuration was read again
  std::vector<std::string> applied;        // changed live keys, now in effect
  std::vector<std::string> needs_restart;  // changed keys a running server cannot apply
};

class ServerDaemon {
 public:
  static constexpr std::chrono::hours kCompactionInterval{1};

  // `running` is the configuration the parts were built from. The first compaction is
  // due kCompactionInterval after construction (the stores compact at start-up).
  ServerDaemon(ServerDaemonParts parts, service::ServerConfig running);
  ServerDaemon(const ServerDaemon&) = delete;
  ServerDaemon& operator=(const ServerDaemon&) = delete;

  // Does the periodic work that is due at the clock's SteadyNow(). Cheap when nothing is:
  // two Stat calls.
  DueWork RunDueWork();

  // SIGHUP: see the header comment.
  ReloadReport Reload();

  // The configuration as applied: start-up's, plus the live keys of later reloads.
  const service::ServerConfig& config() const { return running_; }
  std::chrono::steady_clock::time_point next_compaction() const { return next_compaction_; }

 private:
  // What identifies one version of a file (bluetrace-admin rewrites the user files by
  // rename, so the inode changes even within one mtime tick); nullopt while unreadable.
  struct Version {
    std::uint64_t inode = 0;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    bool operator==(const Version&) const = default;
  };
  struct UserFileStamps {
    std::optional<Version> credentials;
    std::optional<Version> lockouts;
    bool operator==(const UserFileStamps&) const = default;
  };
  UserFileStamps StampUserFiles();
  void ReloadConfig(ReloadReport& report);

  ServerDaemonParts parts_;
  service::ServerConfig running_;
  std::string credentials_file_;
  std::string lockouts_file_;
  UserFileStamps stamps_;
  std::chrono::steady_clock::time_point next_compaction_;
};

// Hands the validity window of the certificate now in use (`pem`, the first of its chain)
// to `watch` (/readyz), and logs a warning when clients would refuse it (expired, not yet
// valid) or a notice when it expires within 30 days. `prefix` says when ("SIGHUP: ").
void WatchCertificate(const util::Result<std::string>& pem, const std::string& file,
                      CertificateValidityWatch& watch, const util::Clock& clock,
                      const char* prefix);

}  // namespace bluetrace::net
