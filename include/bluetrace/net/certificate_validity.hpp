// Where a certificate stands in its validity window [notBefore, notAfter]: TLS clients
// refuse one that has expired or is not yet valid, and OpenSSL loads it into a server
// context without a word. bluetrace-server says so in its log at start-up and at every
// reload, and its /readyz fails while it holds (CertificateValidityWatch).
//
// The functions are pure; the watch is thread-safe.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "bluetrace/net/certificate.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/status.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::net {

enum class CertificateTime {
  kNotYetValid,  // now < notBefore
  kValid,
  kExpiresSoon,  // valid, but notAfter is at most kCertificateExpiryNoticeSeconds away
  kExpired,      // now > notAfter
};

inline constexpr std::int64_t kCertificateExpiryNoticeSeconds = 30 * 24 * 3600;

// Valid at `now` means notBefore <= now <= notAfter, as OpenSSL's verifier counts it.
CertificateTime CheckCertificateTime(std::int64_t not_before, std::int64_t not_after,
                                     std::int64_t now);

// One sentence for the log about the certificate `name` (a file) at `now`, empty when it is
// kValid; dates in UTC, e.g.
//   "certificate server.crt expired on 2024-01-31 12:00:00 UTC (3 days ago); TLS clients
//    refuse it: install a new one and reload (SIGHUP)"
std::string DescribeCertificateTime(const CertificateInfo& info, std::string_view name,
                                    std::int64_t now);

// The validity window of the certificate a server presents, for its readiness probe: set
// at start-up and at every successful reload, checked against the clock at every Check,
// since a certificate expires while the server runs. Thread-safe.
class CertificateValidityWatch {
 public:
  explicit CertificateValidityWatch(const util::Clock& clock) : clock_(clock) {}

  void Set(const CertificateInfo& info) EXCLUDES(mu_);

  // OK before any Set and while the window holds now; otherwise kUnavailable with the
  // message "certificate expired" or "certificate not yet valid".
  util::Status Check() const EXCLUDES(mu_);

 private:
  const util::Clock& clock_;
  mutable util::Mutex mu_;
  std::int64_t not_before_ GUARDED_BY(mu_) = std::numeric_limits<std::int64_t>::min();
  std::int64_t not_after_ GUARDED_BY(mu_) = std::numeric_limits<std::int64_t>::max();
};

}  // namespace bluetrace::net
