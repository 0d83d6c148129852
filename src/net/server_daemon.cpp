#include "bluetrace/net/server_daemon.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "bluetrace/net/console_server.hpp"
#include "bluetrace/net/tls_context.hpp"
#include "bluetrace/store/files/state_dir.hpp"

namespace bluetrace::net {

ServerDaemon::ServerDaemon(ServerDaemonParts parts, service::ServerConfig running)
    : parts_(std::move(parts)),
      running_(std::move(running)),
      credentials_file_(store::StateDir(running_.state_dir).credentials()),
      lockouts_file_(store::StateDir(running_.state_dir).lockouts()),
      stamps_(StampUserFiles()),
      next_compaction_(parts_.clock.SteadyNow() + kCompactionInterval) {}

ServerDaemon::UserFileStamps ServerDaemon::StampUserFiles() {
  auto stamp = [this](const std::string& path) -> std::optional<Version> {
    auto info = parts_.fs.Stat(path);
    if (!info.ok()) return std::nullopt;
    return Version{info->inode, info->size, info->mtime_ns};
  };
  return {stamp(credentials_file_), stamp(lockouts_file_)};
}

DueWork ServerDaemon::RunDueWork() {
  DueWork done;
  if (UserFileStamps now = StampUserFiles(); now != stamps_) {
    stamps_ = now;
    done.users_reloaded = true;
    if (auto st = parts_.service.ReloadUsers(); !st.ok()) {
      spdlog::error("user files changed on disk but were not reloaded: {}", st.ToString());
    } else {
      spdlog::debug("reloaded credentials.txt and lockouts.txt (changed on disk)");
    }
  }
  if (parts_.clock.SteadyNow() >= next_compaction_) {
    next_compaction_ += kCompactionInterval;
    done.compacted = true;
    auto compacted = parts_.service.CompactTempIds();
    if (!compacted.ok()) {
      spdlog::error("TempID compaction failed: {}", compacted.status().ToString());
    } else if (compacted->records_dropped > 0) {
      spdlog::info("TempID compaction dropped {} expired records", compacted->records_dropped);
    }
    auto pruned = parts_.service.PruneReports();
    if (!pruned.ok()) {
      spdlog::error("report retention failed: {}", pruned.status().ToString());
    } else if (*pruned > 0) {
      spdlog::info("report retention deleted {} reports", *pruned);
    }
    auto audit = parts_.service.PruneAudit();
    if (!audit.ok()) {
      spdlog::error("audit retention failed: {}", audit.status().ToString());
    } else if (audit->records_dropped > 0) {
      spdlog::info("audit retention pruned {} records (anchor record {})", audit->records_dropped,
                   audit->anchor_seq);
    }
  }
  return done;
}

ReloadReport ServerDaemon::Reload() {
  ReloadReport report;
  const ServerCertificate& cert = parts_.certificate;
  auto tls = MakeServerContext(
      TlsServerOptions{cert.certificate_file, cert.private_key_file, running_.tls_min_version},
      parts_.fs);
  if (!tls.ok()) {
    report.certificate = tls.status();
    spdlog::error("SIGHUP: keeping the current certificate: {}", tls.status().ToString());
  } else {
    parts_.server.ReplaceTlsContext(*tls);
    if (parts_.console != nullptr) parts_.console->ReplaceTlsContext(*tls);
    auto pem = parts_.fs.ReadFile(cert.certificate_file, 1 << 20);
    auto fp = pem.ok() ? CertificateFingerprintSha256(*pem) : pem.status();
    spdlog::info("SIGHUP: certificate reloaded from {} ({})", cert.certificate_file,
                 fp.ok() ? *fp : fp.status().ToString());
    WatchCertificate(pem, cert.certificate_file, parts_.certificate_validity, parts_.clock,
                     "SIGHUP: ");
  }
  report.users = parts_.service.ReloadUsers();
  if (!report.users.ok()) {
    spdlog::error("SIGHUP: user files not reloaded: {}", report.users.ToString());
  }
  ReloadConfig(report);
  return report;
}

// Reads the configuration again (file and flags, as at start). Keys a running server can
// apply take effect; for the others it says that a restart is needed.
void ServerDaemon::ReloadConfig(ReloadReport& report) {
  auto fresh = parts_.reread_config();
  if (!fresh.ok()) {
    report.config = fresh.status();
    spdlog::error("SIGHUP: configuration not re-read, the running one stays: {}",
                  fresh.status().message());
    return;
  }
  for (const std::string& key : service::ChangedKeys(running_, *fresh)) {
    if (!service::IsLiveKey(key)) {
      spdlog::warn("SIGHUP: {} changed; it takes effect at the next restart", key);
      report.needs_restart.push_back(key);
    } else {
      report.applied.push_back(key);
    }
  }
  if (fresh->log_level != running_.log_level) {
    spdlog::set_level(spdlog::level::from_str(fresh->log_level));
    spdlog::info("SIGHUP: log level is now {}", fresh->log_level);
    running_.log_level = fresh->log_level;
  }
}

void WatchCertificate(const util::Result<std::string>& pem, const std::string& file,
                      CertificateValidityWatch& watch, const util::Clock& clock,
                      const char* prefix) {
  auto info = pem.ok() ? InspectCertificate(*pem) : pem.status();
  if (!info.ok()) {
    spdlog::warn("{}cannot read the validity of certificate {}: {}", prefix, file,
                 info.status().ToString());
    return;
  }
  watch.Set(*info);
  const std::int64_t now = clock.NowUnixSeconds();
  const std::string note = DescribeCertificateTime(*info, file, now);
  if (note.empty()) return;
  if (CheckCertificateTime(info->not_before_unix, info->not_after_unix, now) ==
      CertificateTime::kExpiresSoon) {
    spdlog::info("{}{}", prefix, note);
  } else {
    spdlog::warn("{}{}", prefix, note);
  }
}

}  // namespace bluetrace::net
