#include "bluetrace/net/certificate_validity.hpp"

#include <ctime>

namespace bluetrace::net {
namespace {

std::string UtcDate(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (gmtime_r(&tt, &tm) == nullptr) return std::to_string(t) + " (Unix time)";
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

// "3 days", "1 day", "less than a day".
std::string Days(std::int64_t seconds) {
  const std::int64_t days = seconds / 86400;
  if (days < 1) return "less than a day";
  return std::to_string(days) + (days == 1 ? " day" : " days");
}

}  // namespace

CertificateTime CheckCertificateTime(std::int64_t not_before, std::int64_t not_after,
                                     std::int64_t now) {
  if (now < not_before) return CertificateTime::kNotYetValid;
  if (now > not_after) return CertificateTime::kExpired;
  if (not_after - now <= kCertificateExpiryNoticeSeconds) return CertificateTime::kExpiresSoon;
  return CertificateTime::kValid;
}

std::string DescribeCertificateTime(const CertificateInfo& info, std::string_view name,
                                    std::int64_t now) {
  const std::string cert = "certificate " + std::string(name);
  switch (CheckCertificateTime(info.not_before_unix, info.not_after_unix, now)) {
    case CertificateTime::kNotYetValid:
      return cert + " is not valid before " + UtcDate(info.not_before_unix) + " (in " +
             Days(info.not_before_unix - now) +
             "); TLS clients refuse it until then: check it, and this machine's clock";
    case CertificateTime::kExpired:
      return cert + " expired on " + UtcDate(info.not_after_unix) + " (" +
             Days(now - info.not_after_unix) +
             " ago); TLS clients refuse it: install a new one and reload (SIGHUP)";
    case CertificateTime::kExpiresSoon:
      return cert + " expires on " + UtcDate(info.not_after_unix) + ", in " +
             Days(info.not_after_unix - now) + ": renew it";
    case CertificateTime::kValid:
      break;
  }
  return {};
}

void CertificateValidityWatch::Set(const CertificateInfo& info) {
  util::MutexLock lock(mu_);
  not_before_ = info.not_before_unix;
  not_after_ = info.not_after_unix;
}

util::Status CertificateValidityWatch::Check() const {
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
  {
    util::MutexLock lock(mu_);
    not_before = not_before_;
    not_after = not_after_;
  }
  switch (CheckCertificateTime(not_before, not_after, clock_.NowUnixSeconds())) {
    case CertificateTime::kNotYetValid:
      return util::Unavailable("certificate not yet valid");
    case CertificateTime::kExpired:
      return util::Unavailable("certificate expired");
    case CertificateTime::kValid:
    case CertificateTime::kExpiresSoon:
      break;
  }
  return util::Status::Ok();
}

}  // namespace bluetrace::net
