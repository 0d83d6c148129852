#include "bluetrace/net/certificate.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "support/fault_injection_fs.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::net {
namespace {

using test::RunCommandForTest;
using test::ShellQuoteForTest;
using test::TempDir;
using test::WriteFileForTest;
using util::StatusCode;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

X509Ptr ParseCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return cert;
}

PkeyPtr ParseKey(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return key;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

constexpr std::int64_t kNow = 1'700'000'000;  // 2023-11-14T22:13:20Z

class CertificateTest : public ::testing::Test {
 protected:
  GeneratedCertificate Generate(SelfSignedOptions options = {}) {
    auto generated = GenerateSelfSigned(options, clock_);
    EXPECT_TRUE(generated.ok()) << generated.status().ToString();
    return generated.ok() ? std::move(generated).value() : GeneratedCertificate{};
  }

  util::ManualClock clock_{kNow};
  store::PosixFileSystem& fs_ = store::PosixFileSystem::Instance();
  TempDir dir_;
};

TEST_F(CertificateTest, GeneratedCertificateNamesLoopbackAndIsEcP256) {
  GeneratedCertificate gen = Generate();
  auto info = InspectCertificate(gen.certificate_pem);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->subject, "CN=localhost");
  EXPECT_EQ(info->issuer, "CN=localhost");
  EXPECT_TRUE(Contains(info->dns_names, "localhost"));
  EXPECT_TRUE(Contains(info->ip_addresses, "127.0.0.1"));
  EXPECT_TRUE(Contains(info->ip_addresses, "::1"));
  EXPECT_EQ(info->key_type, "EC P-256");
  EXPECT_EQ(info->not_before_unix, kNow - 3600);
  EXPECT_EQ(info->not_after_unix, kNow + 825LL * 86400);
  EXPECT_EQ(gen.private_key_pem.view().rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u)
      << "the key must be PKCS#8";
}

TEST_F(CertificateTest, HostNameIsAddedOnlyWhenAskedAndValid) {
  std::array<char, 256> host{};
  ASSERT_EQ(gethostname(host.data(), host.size() - 1), 0);
  auto with = InspectCertificate(Generate().certificate_pem);
  ASSERT_TRUE(with.ok());
  EXPECT_EQ(Contains(with->dns_names, host.data()), IsValidDnsName(host.data()));

  SelfSignedOptions options;
  options.include_host_name = false;
  auto without = InspectCertificate(Generate(options).certificate_pem);
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(without->dns_names, std::vector<std::string>{"localhost"});
  EXPECT_EQ(without->ip_addresses, (std::vector<std::string>{"127.0.0.1", "::1"}));
}

TEST_F(CertificateTest, OptionsAddNamesAddressesAndValidity) {
  SelfSignedOptions options;
  options.common_name = "tracer.example.org";
  options.extra_dns_names = {"tracer.example.org", "localhost"};  // the duplicate is dropped
  options.extra_ip_addresses = {"192.0.2.10", "2001:db8::1"};
  options.include_host_name = false;
  options.validity_days = 30;
  auto info = InspectCertificate(Generate(options).certificate_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->subject, "CN=tracer.example.org");
  EXPECT_EQ(info->dns_names, (std::vector<std::string>{"localhost", "tracer.example.org"}));
  EXPECT_EQ(info->ip_addresses,
            (std::vector<std::string>{"127.0.0.1", "::1", "192.0.2.10", "2001:db8::1"}));
  EXPECT_EQ(info->not_after_unix, kNow + 30LL * 86400);
}

TEST_F(CertificateTest, InvalidOptionsAreRefusedNamingTheValue) {
  auto expect_refused = [&](const SelfSignedOptions& options, const std::string& named) {
    auto got = GenerateSelfSigned(options, clock_);
    ASSERT_FALSE(got.ok()) << named;
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(got.status().message().find(named), std::string::npos) << got.status().message();
  };
  SelfSignedOptions o;
  o.common_name = "";
  expect_refused(o, "common name");
  o.common_name = std::string(65, 'a');
  expect_refused(o, "common name");
  o = {};
  o.extra_dns_names = {"evil,IP:10.0.0.1"};  // must not inject another SAN entry
  expect_refused(o, "evil,IP:10.0.0.1");
  o = {};
  o.extra_dns_names = {"-bad.example"};
  expect_refused(o, "-bad.example");
  o = {};
  o.extra_ip_addresses = {"999.1.1.1"};
  expect_refused(o, "999.1.1.1");
  o = {};
  o.validity_days = 0;
  expect_refused(o, "validity_days");
  o.validity_days = 3651;
  expect_refused(o, "3651");
}

TEST_F(CertificateTest, ExtensionsMakeAServerOnlyCertificate) {
  X509Ptr cert = ParseCert(Generate().certificate_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256);
  EXPECT_EQ(X509_check_ca(cert.get()), 0) << "must not be a CA";
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<std::uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()), static_cast<std::uint32_t>(XKU_SSL_SERVER));
  for (int nid : {NID_basic_constraints, NID_key_usage}) {
    const int index = X509_get_ext_by_NID(cert.get(), nid, -1);
    ASSERT_GE(index, 0) << OBJ_nid2sn(nid);
    EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(cert.get(), index)), 1) << OBJ_nid2sn(nid);
  }
}

TEST_F(CertificateTest, SerialsAreRandomAndLong) {
  auto a = InspectCertificate(Generate().certificate_pem);
  auto b = InspectCertificate(Generate().certificate_pem);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->serial_hex, b->serial_hex);
  EXPECT_GE(a->serial_hex.size(), 30u);  // 128 bits, leading zero nibbles aside
  EXPECT_NE(a->fingerprint_sha256, b->fingerprint_sha256);
}

TEST_F(CertificateTest, SelfVerifiesAndKeyMatches) {
  GeneratedCertificate gen = Generate();
  X509Ptr cert = ParseCert(gen.certificate_pem);
  PkeyPtr key = ParseKey(gen.private_key_pem.view());
  ASSERT_TRUE(cert && key);
  EXPECT_EQ(X509_verify(cert.get(), key.get()), 1);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);

  // Trusted as itself, it verifies as a TLS server certificate for 127.0.0.1.
  X509_STORE* store = X509_STORE_new();
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  ASSERT_EQ(X509_STORE_add_cert(store, cert.get()), 1);
  ASSERT_EQ(X509_STORE_CTX_init(ctx, store, cert.get(), nullptr), 1);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM_set1_ip_asc(param, "127.0.0.1");
  // Verified at a time inside the validity window the ManualClock chose.
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(kNow));
  EXPECT_EQ(X509_verify_cert(ctx), 1)
      << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);

  // A key from another generation does not match.
  PkeyPtr other = ParseKey(Generate().private_key_pem.view());
  EXPECT_NE(X509_check_private_key(cert.get(), other.get()), 1);
}

TEST_F(CertificateTest, FingerprintMatchesOpensslCommandLine) {
  GeneratedCertificate gen = Generate();
  const std::string path = dir_.File("server.crt");
  WriteFileForTest(path, gen.certificate_pem);
  auto ours = CertificateFingerprintSha256(gen.certificate_pem);
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  EXPECT_TRUE(std::regex_match(*ours, std::regex("SHA256:([0-9A-F]{2}:){31}[0-9A-F]{2}"))) << *ours;
  EXPECT_EQ(*CertificateFingerprintSha256(gen.certificate_pem), *ours) << "not stable";

  auto cli =
      RunCommandForTest("openssl x509 -noout -fingerprint -sha256 -in " + ShellQuoteForTest(path));
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  const std::size_t eq = cli.output.find('=');
  ASSERT_NE(eq, std::string::npos) << cli.output;
  std::string theirs = cli.output.substr(eq + 1);
  while (!theirs.empty() && (theirs.back() == '\n' || theirs.back() == '\r')) theirs.pop_back();
  EXPECT_EQ(*ours, "SHA256:" + theirs);

  // The DER variant (what the client computes from the handshake) agrees.
  X509Ptr cert = ParseCert(gen.certificate_pem);
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert.get(), &der);
  ASSERT_GT(len, 0);
  auto from_der =
      DerFingerprintSha256(std::span<const std::uint8_t>(der, static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  ASSERT_TRUE(from_der.ok());
  EXPECT_EQ(*from_der, *ours);
  EXPECT_EQ(InspectCertificate(gen.certificate_pem)->fingerprint_sha256, *ours);
}

TEST_F(CertificateTest, GarbageIsNotACertificate) {
  for (const std::string& bad : {std::string(), std::string("hello\n"),
                                 std::string("-----BEGIN CERTIFICATE-----\nAAAA\n"
                                             "-----END CERTIFICATE-----\n")}) {
    auto fp = CertificateFingerprintSha256(bad);
    ASSERT_FALSE(fp.ok());
    EXPECT_EQ(fp.status().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(InspectCertificate(bad).ok());
  }
}

TEST_F(CertificateTest, KeyFileReadableByOthersIsRefusedNamingFileAndMode) {
  const std::string key = dir_.File("server.key");
  WriteFileForTest(key, "secret");
  ASSERT_EQ(chmod(key.c_str(), 0644), 0);
  util::Status st = CheckPrivateKeyFileMode(fs_, key);
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(st.message(), key +
                              " has mode 0644; the private key must not be accessible by "
                              "group or others (chmod 600 " +
                              key + ")");

  ASSERT_EQ(chmod(key.c_str(), 0640), 0);
  EXPECT_EQ(CheckPrivateKeyFileMode(fs_, key).code(), StatusCode::kPermissionDenied);
  ASSERT_EQ(chmod(key.c_str(), 0604), 0);
  EXPECT_EQ(CheckPrivateKeyFileMode(fs_, key).code(), StatusCode::kPermissionDenied);
  ASSERT_EQ(chmod(key.c_str(), 0600), 0);
  EXPECT_TRUE(CheckPrivateKeyFileMode(fs_, key).ok());
  ASSERT_EQ(chmod(key.c_str(), 0400), 0);
  EXPECT_TRUE(CheckPrivateKeyFileMode(fs_, key).ok());
  EXPECT_EQ(CheckPrivateKeyFileMode(fs_, dir_.File("missing.key")).code(), StatusCode::kNotFound);
}

TEST_F(CertificateTest, WriteCertificateFilesUsesPrivateAndPublicModes) {
  GeneratedCertificate gen = Generate();
  const std::string crt = dir_.File("server.crt");
  const std::string key = dir_.File("server.key");
  ASSERT_TRUE(WriteCertificateFiles(fs_, crt, key, gen).ok());
  EXPECT_EQ(*fs_.FileMode(key), 0600u);
  EXPECT_EQ(*fs_.FileMode(crt), 0644u);
  EXPECT_EQ(test::ReadFileForTest(crt), gen.certificate_pem);
  EXPECT_EQ(test::ReadFileForTest(key), gen.private_key_pem.view());
}

TEST_F(CertificateTest, WriteCertificateFilesReportsAFullDisk) {
  test::FaultInjectingFileSystem faulty(fs_);
  faulty.SetDiskFull(true);
  util::Status st =
      WriteCertificateFiles(faulty, dir_.File("server.crt"), dir_.File("server.key"), Generate());
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("No space left on device"), std::string::npos) << st.message();
  EXPECT_FALSE(*fs_.Exists(dir_.File("server.crt")));
}

TEST_F(CertificateTest, EnsureServerCertificateCreatesOnceThenReuses) {
  const std::string state = dir_.File("state");
  auto first = EnsureServerCertificate(fs_, state, "", "", {}, clock_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->certificate_file, state + "/server.crt");
  EXPECT_EQ(first->private_key_file, state + "/server.key");
  EXPECT_EQ(*fs_.FileMode(first->private_key_file), 0600u);
  EXPECT_EQ(*CertificateFingerprintSha256(test::ReadFileForTest(first->certificate_file)),
            first->fingerprint_sha256);

  auto second = EnsureServerCertificate(fs_, state, "", "", {}, clock_);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->fingerprint_sha256, first->fingerprint_sha256);
}

TEST_F(CertificateTest, EnsureServerCertificateRefusesHalfAPair) {
  const std::string state = dir_.path();
  WriteFileForTest(dir_.File("server.key"), "operator's key");
  auto got = EnsureServerCertificate(fs_, state, "", "", {}, clock_);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(got.status().message().find(dir_.File("server.key")), std::string::npos);
  EXPECT_NE(got.status().message().find(dir_.File("server.crt")), std::string::npos);
  EXPECT_EQ(test::ReadFileForTest(dir_.File("server.key")), "operator's key") << "overwritten";
}

TEST_F(CertificateTest, EnsureServerCertificateUsesConfiguredFilesAndNeverCreatesThem) {
  const std::string crt = dir_.File("mine.crt");
  const std::string key = dir_.File("mine.key");
  auto missing = EnsureServerCertificate(fs_, dir_.path(), crt, key, {}, clock_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(crt), std::string::npos);
  EXPECT_FALSE(*fs_.Exists(dir_.File("server.crt")));

  GeneratedCertificate gen = Generate();
  ASSERT_TRUE(WriteCertificateFiles(fs_, crt, key, gen).ok());
  auto used = EnsureServerCertificate(fs_, dir_.path(), crt, key, {}, clock_);
  ASSERT_TRUE(used.ok()) << used.status().ToString();
  EXPECT_FALSE(used->created);
  EXPECT_EQ(used->certificate_file, crt);
  EXPECT_EQ(used->private_key_file, key);
  EXPECT_EQ(used->fingerprint_sha256, *CertificateFingerprintSha256(gen.certificate_pem));

  auto one = EnsureServerCertificate(fs_, dir_.path(), crt, "", {}, clock_);
  EXPECT_EQ(one.status().code(), StatusCode::kInvalidArgument);
}

TEST(DnsNameTest, AcceptsHostNamesOnly) {
  for (const char* ok : {"localhost", "a", "tracer.example.org", "x-1.example", "A1.b2"}) {
    EXPECT_TRUE(IsValidDnsName(ok)) << ok;
  }
  const std::string long_label(64, 'a');
  for (const std::string& bad :
       {std::string(), std::string("."), std::string("example."), std::string("-a"),
        std::string("a-"), std::string("a..b"), std::string("a_b"), std::string("a b"),
        std::string("127.0.0.1"), std::string("*.example.org"), long_label}) {
    EXPECT_FALSE(IsValidDnsName(bad)) << bad;
  }
}

}  // namespace
}  // namespace bluetrace::net
