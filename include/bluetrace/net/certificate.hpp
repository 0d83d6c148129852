// Certificates for the TLS server and client: self-signed generation, fingerprints,
// inspection, private-key file checks and the server's start-up rule for its certificate.
//
// Everything here works on PEM/DER bytes and store::FileSystem; no sockets, no Asio. The
// functions are stateless and thread-safe (OpenSSL 3 keeps its error queue per thread).
// Private keys are returned as util::SecretString so they are wiped from memory when the
// caller drops them.
//
// Fingerprint format, used everywhere (logs, the admin tool, the client's trust store):
//   "SHA256:" followed by the SHA-256 of the certificate's DER encoding as 32 upper-case
//   hex byte pairs separated by colons, e.g. "SHA256:3F:A0:...:9C" (7 + 95 characters).
// The part after "SHA256:" is exactly what `openssl x509 -noout -fingerprint -sha256`
// prints after "sha256 Fingerprint=", so an operator can compare the two by eye.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/secret.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::net {

struct SelfSignedOptions {
  std::string common_name = "localhost";  // subject CN, 1..64 characters
  // Always in the subjectAltName: DNS:localhost, IP:127.0.0.1, IP:::1, and the machine's
  // host name (gethostname) when it is a valid DNS name and include_host_name is set.
  std::vector<std::string> extra_dns_names;     // each a valid DNS name (letters, digits, '-')
  std::vector<std::string> extra_ip_addresses;  // each an IPv4 or IPv6 literal
  bool include_host_name = true;
  // Days of validity from now; notBefore is backdated one hour for clock skew.
  std::uint32_t validity_days = 825;  // 1..3650
};

struct GeneratedCertificate {
  std::string certificate_pem;         // "-----BEGIN CERTIFICATE-----" ...
  util::SecretString private_key_pem;  // PKCS#8, unencrypted: "-----BEGIN PRIVATE KEY-----"
};

// A fresh ECDSA P-256 key and a self-signed X.509 v3 server certificate for it: random
// 128-bit serial, subject = issuer = CN, the subjectAltNames above, basicConstraints
// CA:FALSE (critical), keyUsage digitalSignature (critical), extendedKeyUsage serverAuth,
// subjectKeyIdentifier; signed with SHA-256. The validity window starts at
// clock.NowUnixSeconds() - 3600. kInvalidArgument names the bad option (CN, DNS name, IP,
// days); an OpenSSL failure is kInternal with OpenSSL's error text.
util::Result<GeneratedCertificate> GenerateSelfSigned(
    const SelfSignedOptions& options, const util::Clock& clock = util::SystemClock::Instance());

// Writes the key (mode 0600) and then the certificate (mode 0644), each atomically and
// durably via FileSystem::ReplaceFileAtomically. The key goes first so that a certificate
// on disk always has its key next to it. Errors are the FileSystem's (they name the path).
util::Status WriteCertificateFiles(store::FileSystem& fs, const std::string& certificate_path,
                                   const std::string& private_key_path,
                                   const GeneratedCertificate& generated);

// Fingerprint (format above) of the first certificate in `pem`. kInvalidArgument when
// `pem` holds no parseable certificate.
util::Result<std::string> CertificateFingerprintSha256(std::string_view pem);

// Fingerprint (format above) of DER bytes as they are (e.g. i2d_X509 of the peer
// certificate). Does not parse them. kInternal only if OpenSSL's digest fails.
util::Result<std::string> DerFingerprintSha256(std::span<const std::uint8_t> der);

// kPermissionDenied when the file's mode grants group or others any access (mode & 077):
//   "<path> has mode 0644; the private key must not be accessible by group or others
//    (chmod 600 <path>)".
// FileSystem errors (kNotFound, ...) are passed through.
util::Status CheckPrivateKeyFileMode(store::FileSystem& fs, const std::string& path);

struct CertificateInfo {
  std::string subject;                 // RFC 2253 form, e.g. "CN=localhost"
  std::string issuer;                  // same form; equal to subject for a self-signed certificate
  std::string serial_hex;              // upper-case hex without separators
  std::vector<std::string> dns_names;  // subjectAltName DNS entries, in order
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries ("127.0.0.1", "::1")
  std::int64_t not_before_unix = 0;
  std::int64_t not_after_unix = 0;
  std::string key_type;  // "EC P-256", "RSA 2048", "ED25519", ...
  std::string fingerprint_sha256;
};

// Reads the first certificate of `pem`. kInvalidArgument when there is none or a field
// cannot be decoded.
util::Result<CertificateInfo> InspectCertificate(std::string_view pem);

struct ServerCertificate {
  std::string certificate_file;
  std::string private_key_file;
  bool created = false;  // true when a self-signed pair was generated just now
  std::string fingerprint_sha256;
};

// The server's start-up rule for its certificate (config keys tls.certificate and
// tls.private_key):
//  - both configured: use them as they are; their existence is checked by reading the
//    certificate (kNotFound names it). Nothing is ever generated for configured paths.
//  - exactly one configured: kInvalidArgument (they must be set together).
//  - neither: use <state_dir>/server.crt and <state_dir>/server.key. When neither file
//    exists, create the state directory if needed and write a new self-signed pair there
//    (GenerateSelfSigned with `options`); when both exist, use them. When only one exists
//    it is refused with kFailedPrecondition naming both files, because regenerating would
//    replace a key or certificate the operator may have placed there.
// The result says which files to load and the certificate's fingerprint (to log it, so
// clients in trust-on-first-use mode can compare). The key file's mode is checked later by
// MakeServerContext, not here.
util::Result<ServerCertificate> EnsureServerCertificate(
    store::FileSystem& fs, const std::string& state_dir, const std::string& certificate_file,
    const std::string& private_key_file, const SelfSignedOptions& options = {},
    const util::Clock& clock = util::SystemClock::Instance());

// True when `name` is a valid DNS host name: 1..253 characters, dot-separated labels of
// 1..63 letters, digits and '-', no label starting or ending with '-', not all digits in
// the last label (so IPv4 literals are not mistaken for names). A trailing dot is refused.
bool IsValidDnsName(std::string_view name);

}  // namespace bluetrace::net
