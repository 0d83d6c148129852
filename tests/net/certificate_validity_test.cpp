#include "bluetrace/net/certificate_validity.hpp"

#include <gtest/gtest.h>

#include <string>

#include "bluetrace/net/certificate.hpp"
#include "bluetrace/util/clock.hpp"

namespace bluetrace::net {
namespace {

using util::StatusCode;

constexpr std::int64_t kNow = 1'700'000'000;  // 2023-11-14 22:13:20 UTC
constexpr std::int64_t kDay = 86400;

// The window of a real certificate made through OpenSSL's C API at `made_at`.
CertificateInfo MadeAt(std::int64_t made_at, std::uint32_t days) {
  util::ManualClock clock(made_at);
  SelfSignedOptions options;
  options.include_host_name = false;
  options.validity_days = days;
  auto generated = GenerateSelfSigned(options, clock);
  EXPECT_TRUE(generated.ok()) << generated.status().ToString();
  auto info = InspectCertificate(generated.ok() ? generated->certificate_pem : "");
  EXPECT_TRUE(info.ok()) << info.status().ToString();
  return info.ok() ? *info : CertificateInfo{};
}

TEST(CertificateTimeTest, TheWindowIncludesBothEnds) {
  EXPECT_EQ(CheckCertificateTime(100, 100 + 60 * kDay, 99), CertificateTime::kNotYetValid);
  EXPECT_EQ(CheckCertificateTime(100, 100 + 60 * kDay, 100), CertificateTime::kValid);
  EXPECT_EQ(CheckCertificateTime(100, 100 + 60 * kDay, 100 + 30 * kDay - 1),
            CertificateTime::kValid);
  EXPECT_EQ(CheckCertificateTime(100, 100 + 60 * kDay, 100 + 30 * kDay),
            CertificateTime::kExpiresSoon);
  EXPECT_EQ(CheckCertificateTime(100, 100 + 60 * kDay, 100 + 60 * kDay),
            CertificateTime::kExpiresSoon);
  EXPECT_EQ(CheckCertificateTime(100, 100 + 60 * kDay, 100 + 60 * kDay + 1),
            CertificateTime::kExpired);
}

TEST(CertificateTimeTest, SentencesNameTheFileTheDateAndWhatToDo) {
  // Made 400 days ago for 1 day: expired 399 days ago.
  const CertificateInfo expired = MadeAt(kNow - 400 * kDay, 1);
  EXPECT_EQ(DescribeCertificateTime(expired, "server.crt", kNow),
            "certificate server.crt expired on 2022-10-11 22:13:20 UTC (399 days ago); TLS "
            "clients refuse it: install a new one and reload (SIGHUP)");

  // Made for a clock 10 days ahead (notBefore is backdated one hour).
  const CertificateInfo future = MadeAt(kNow + 10 * kDay, 30);
  EXPECT_EQ(DescribeCertificateTime(future, "server.crt", kNow),
            "certificate server.crt is not valid before 2023-11-24 21:13:20 UTC (in 9 days); TLS "
            "clients refuse it until then: check it, and this machine's clock");

  const CertificateInfo soon = MadeAt(kNow, 10);
  EXPECT_EQ(DescribeCertificateTime(soon, "server.crt", kNow),
            "certificate server.crt expires on 2023-11-24 22:13:20 UTC, in 10 days: renew it");
  EXPECT_NE(DescribeCertificateTime(soon, "x", kNow + 10 * kDay - 5).find("less than a day"),
            std::string::npos);

  EXPECT_EQ(DescribeCertificateTime(MadeAt(kNow, 90), "server.crt", kNow), "");
}

TEST(CertificateValidityWatchTest, ReadsTheClockAtEveryCheck) {
  util::ManualClock clock(kNow);
  CertificateValidityWatch watch(clock);
  EXPECT_TRUE(watch.Check().ok());  // nothing set yet

  watch.Set(MadeAt(kNow, 2));
  EXPECT_TRUE(watch.Check().ok());
  clock.AdvanceSeconds(2 * kDay + 1);  // the certificate expires while the server runs
  util::Status st = watch.Check();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_EQ(st.message(), "certificate expired");

  watch.Set(MadeAt(kNow + 10 * kDay, 30));  // a reload to one that starts later
  st = watch.Check();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_EQ(st.message(), "certificate not yet valid");
  clock.AdvanceSeconds(8 * kDay);
  EXPECT_TRUE(watch.Check().ok());
}

}  // namespace
}  // namespace bluetrace::net
