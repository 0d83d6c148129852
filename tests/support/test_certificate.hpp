// A throwaway server certificate for tests that talk TLS on 127.0.0.1: generated, written,
// and (optionally) loaded into a TLS 1.3 server context, failing the calling test on any
// error. Header-only; the files live wherever the test puts them (a TempDir).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "bluetrace/net/certificate.hpp"
#include "bluetrace/net/tls_context.hpp"
#include "bluetrace/store/file_system.hpp"

namespace bluetrace::test {

// Writes a fresh self-signed certificate (no host name in it) and its key to `crt` and
// `key`; returns the certificate's fingerprint ("SHA256:..."), or "" after failing the test.
inline std::string WriteTestCertificate(const std::string& crt, const std::string& key) {
  net::SelfSignedOptions self_signed;
  self_signed.include_host_name = false;
  auto generated = net::GenerateSelfSigned(self_signed);
  EXPECT_TRUE(generated.ok()) << generated.status().ToString();
  if (!generated.ok()) return "";
  const util::Status written =
      net::WriteCertificateFiles(store::PosixFileSystem::Instance(), crt, key, *generated);
  EXPECT_TRUE(written.ok()) << written.ToString();
  auto fingerprint = net::CertificateFingerprintSha256(generated->certificate_pem);
  return written.ok() && fingerprint.ok() ? *fingerprint : "";
}

// WriteTestCertificate, then a TLS 1.3 server context on the pair; null after failing the
// test.
inline std::shared_ptr<boost::asio::ssl::context> MakeTestServerTls(const std::string& crt,
                                                                    const std::string& key) {
  if (WriteTestCertificate(crt, key).empty()) return nullptr;
  auto context = net::MakeServerContext(net::TlsServerOptions{crt, key, "1.3"},
                                        store::PosixFileSystem::Instance());
  EXPECT_TRUE(context.ok()) << context.status().ToString();
  return context.ok() ? *context : nullptr;
}

}  // namespace bluetrace::test
