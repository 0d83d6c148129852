#include "bluetrace/net/certificate.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstdio>
#include <ctime>

#include "bluetrace/util/digest.hpp"
#include "bluetrace/util/ip_literal.hpp"
#include "bluetrace/util/random.hpp"
#include "openssl_helpers.hpp"

namespace bluetrace::net {
namespace {

using detail::BioPtr;
using detail::EvpPkeyCtxPtr;
using detail::EvpPkeyPtr;
using detail::OpenSslFailure;
using detail::X509ExtensionPtr;
using detail::X509Ptr;
using util::Result;
using util::Status;
using util::StatusCode;

constexpr std::int64_t kSkewBackdateSeconds = 3600;
constexpr std::uint32_t kMaxValidityDays = 3650;
constexpr std::size_t kMaxCommonNameLength = 64;  // ub-common-name in RFC 5280

std::string LocalHostName() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) return {};
  return std::string(buf.data());
}

// The subjectAltName value in OpenSSL's config syntax. Every entry was validated (DNS
// names contain only [A-Za-z0-9.-], IPs parse with inet_pton), so no entry can smuggle a
// ',' or another directive into the list.
Result<std::string> SubjectAltNames(const SelfSignedOptions& options) {
  std::vector<std::string> dns = {"localhost"};
  std::vector<std::string> ips = {"127.0.0.1", "::1"};
  for (const std::string& name : options.extra_dns_names) {
    if (!IsValidDnsName(name)) {
      return util::InvalidArgument("extra DNS name \"" + name + "\" is not a valid host name");
    }
    dns.push_back(name);
  }
  for (const std::string& ip : options.extra_ip_addresses) {
    if (!util::IsIpLiteral(ip)) {
      return util::InvalidArgument("extra IP address \"" + ip +
                                   "\" is not an IPv4 or IPv6 literal");
    }
    ips.push_back(ip);
  }
  if (options.include_host_name) {
    const std::string host = LocalHostName();
    if (IsValidDnsName(host)) dns.push_back(host);
  }
  std::string san;
  std::vector<std::string> seen;
  auto add = [&](const char* kind, const std::string& value) {
    std::string entry = std::string(kind) + ":" + value;
    if (std::find(seen.begin(), seen.end(), entry) != seen.end()) return;
    seen.push_back(entry);
    if (!san.empty()) san += ",";
    san += entry;
  };
  for (const std::string& d : dns) add("DNS", d);
  for (const std::string& ip : ips) add("IP", ip);
  return san;
}

Result<EvpPkeyPtr> GenerateP256Key() {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") != 1) {
    return OpenSslFailure(StatusCode::kInternal, "preparing P-256 key generation");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &raw) != 1) {
    return OpenSslFailure(StatusCode::kInternal, "generating a P-256 key");
  }
  return EvpPkeyPtr(raw);
}

Status SetRandomSerial(X509* cert) {
  // 128 random bits; a positive INTEGER of at most 17 octets, within RFC 5280's 20.
  std::array<std::uint8_t, 16> bytes{};
  BLUETRACE_RETURN_IF_ERROR(util::OpenSslRandom::Instance().Fill(bytes));
  bytes[0] |= 0x01;  // never zero (RFC 5280 wants a positive serial)
  detail::BignumPtr bn(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return OpenSslFailure(StatusCode::kInternal, "setting the serial number");
  }
  return Status::Ok();
}

Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslFailure(StatusCode::kInternal,
                          std::string("adding extension ") + OBJ_nid2sn(nid) + "=" + value);
  }
  return Status::Ok();
}

Result<std::string> FingerprintOf(X509* cert) {
  util::Sha256Digest md{};
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md.data(), &len) != 1 || len != md.size()) {
    return OpenSslFailure(StatusCode::kInternal, "computing the certificate's SHA-256");
  }
  return util::Sha256Fingerprint(md);
}

Result<std::string> NameToString(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    return OpenSslFailure(StatusCode::kInternal, "printing a certificate name");
  }
  return detail::BioContents(bio.get());
}

Result<std::int64_t> TimeToUnix(const ASN1_TIME* t, const char* which) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) {
    return OpenSslFailure(StatusCode::kInvalidArgument, std::string("decoding ") + which);
  }
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string KeyType(EVP_PKEY* key) {
  if (key == nullptr) return "unknown";
  const int bits = EVP_PKEY_get_bits(key);
  std::array<char, 80> group{};
  std::size_t group_len = 0;
  if (EVP_PKEY_is_a(key, "EC") &&
      EVP_PKEY_get_group_name(key, group.data(), group.size(), &group_len) == 1) {
    const std::string curve(group.data(), group_len);
    return curve == "prime256v1" ? "EC P-256" : "EC " + curve;
  }
  if (EVP_PKEY_is_a(key, "RSA")) return "RSA " + std::to_string(bits);
  const char* type = EVP_PKEY_get0_type_name(key);
  return type != nullptr ? std::string(type) : std::string("unknown");
}

}  // namespace

bool IsValidDnsName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  bool last_all_digits = false;
  while (true) {
    const std::size_t dot = name.find('.', start);
    const std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    last_all_digits = true;
    for (char c : label) {
      const auto u = static_cast<unsigned char>(c);
      if (!std::isalnum(u) && c != '-') return false;
      if (!std::isdigit(u)) last_all_digits = false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return !last_all_digits;
}

Result<GeneratedCertificate> GenerateSelfSigned(const SelfSignedOptions& options,
                                                const util::Clock& clock) {
  if (options.common_name.empty() || options.common_name.size() > kMaxCommonNameLength) {
    return util::InvalidArgument("common name must be 1 to 64 characters, got \"" +
                                 options.common_name + "\"");
  }
  if (options.validity_days < 1 || options.validity_days > kMaxValidityDays) {
    return util::InvalidArgument("validity_days must be between 1 and 3650, got " +
                                 std::to_string(options.validity_days));
  }
  BLUETRACE_ASSIGN_OR_RETURN(const std::string san, SubjectAltNames(options));

  ERR_clear_error();
  BLUETRACE_ASSIGN_OR_RETURN(const EvpPkeyPtr key, GenerateP256Key());

  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return OpenSslFailure(StatusCode::kInternal, "creating the certificate");
  }
  BLUETRACE_RETURN_IF_ERROR(SetRandomSerial(cert.get()));

  const std::int64_t now = clock.NowUnixSeconds();
  const std::int64_t not_after = now + static_cast<std::int64_t>(options.validity_days) * 86400;
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()),
                    static_cast<time_t>(now - kSkewBackdateSeconds)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(not_after)) == nullptr) {
    return OpenSslFailure(StatusCode::kInternal, "setting the validity period");
  }

  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(options.common_name.data()),
                                 static_cast<int>(options.common_name.size()), -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key.get()) != 1) {
    return OpenSslFailure(StatusCode::kInternal, "setting the subject");
  }

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  BLUETRACE_RETURN_IF_ERROR(
      AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE"));
  BLUETRACE_RETURN_IF_ERROR(
      AddExtension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature"));
  BLUETRACE_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth"));
  BLUETRACE_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  BLUETRACE_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_alt_name, san));

  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
    return OpenSslFailure(StatusCode::kInternal, "signing the certificate");
  }

  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  // Secure-memory BIO: its buffer is cleansed when freed, so the key does not linger.
  BioPtr key_bio(BIO_new(BIO_s_secmem()));
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PKCS8PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr,
                                    nullptr) != 1) {
    return OpenSslFailure(StatusCode::kInternal, "encoding the certificate and key as PEM");
  }
  GeneratedCertificate out;
  out.certificate_pem = detail::BioContents(cert_bio.get());
  out.private_key_pem = util::SecretString(detail::BioContents(key_bio.get()));
  return out;
}

Status WriteCertificateFiles(store::FileSystem& fs, const std::string& certificate_path,
                             const std::string& private_key_path,
                             const GeneratedCertificate& generated) {
  BLUETRACE_RETURN_IF_ERROR(
      fs.ReplaceFileAtomically(private_key_path, generated.private_key_pem.view(), 0600));
  return fs.ReplaceFileAtomically(certificate_path, generated.certificate_pem, 0644);
}

Result<std::string> CertificateFingerprintSha256(std::string_view pem) {
  BLUETRACE_ASSIGN_OR_RETURN(const X509Ptr cert, detail::ParsePemCertificate(pem));
  return FingerprintOf(cert.get());
}

Result<std::string> DerFingerprintSha256(std::span<const std::uint8_t> der) {
  BLUETRACE_ASSIGN_OR_RETURN(const util::Sha256Digest md, util::Sha256(der));
  return util::Sha256Fingerprint(md);
}

Status CheckPrivateKeyFileMode(store::FileSystem& fs, const std::string& path) {
  BLUETRACE_ASSIGN_OR_RETURN(const mode_t mode, fs.FileMode(path));
  if ((mode & 077) == 0) return Status::Ok();
  std::array<char, 16> octal{};  // "%04o" of a value <= 07777 needs 5 bytes
  std::snprintf(octal.data(), octal.size(), "%04o", static_cast<unsigned>(mode & 07777));
  return util::PermissionDenied(path + " has mode " + octal.data() +
                                "; the private key must not be accessible by group or others "
                                "(chmod 600 " +
                                path + ")");
}

Result<CertificateInfo> InspectCertificate(std::string_view pem) {
  BLUETRACE_ASSIGN_OR_RETURN(const X509Ptr parsed, detail::ParsePemCertificate(pem));
  X509* cert = parsed.get();
  CertificateInfo info;

  BLUETRACE_ASSIGN_OR_RETURN(info.subject, NameToString(X509_get_subject_name(cert)));
  BLUETRACE_ASSIGN_OR_RETURN(info.issuer, NameToString(X509_get_issuer_name(cert)));

  detail::BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  char* hex = serial ? BN_bn2hex(serial.get()) : nullptr;
  if (hex == nullptr) return OpenSslFailure(StatusCode::kInvalidArgument, "decoding the serial");
  info.serial_hex = hex;
  OPENSSL_free(hex);

  detail::GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type == GEN_DNS) {
      const ASN1_IA5STRING* s = gn->d.dNSName;
      info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                  static_cast<std::size_t>(ASN1_STRING_length(s)));
    } else if (gn->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = gn->d.iPAddress;
      const int len = ASN1_STRING_length(s);
      const int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : -1;
      std::array<char, INET6_ADDRSTRLEN> text{};
      if (family < 0 ||
          inet_ntop(family, ASN1_STRING_get0_data(s), text.data(), text.size()) == nullptr) {
        return util::InvalidArgument("subjectAltName holds an IP address of " +
                                     std::to_string(len) + " bytes");
      }
      info.ip_addresses.emplace_back(text.data());
    }
  }

  BLUETRACE_ASSIGN_OR_RETURN(info.not_before_unix,
                             TimeToUnix(X509_get0_notBefore(cert), "notBefore"));
  BLUETRACE_ASSIGN_OR_RETURN(info.not_after_unix, TimeToUnix(X509_get0_notAfter(cert), "notAfter"));

  info.key_type = KeyType(X509_get0_pubkey(cert));
  BLUETRACE_ASSIGN_OR_RETURN(info.fingerprint_sha256, FingerprintOf(cert));
  return info;
}

Result<ServerCertificate> EnsureServerCertificate(store::FileSystem& fs,
                                                  const std::string& state_dir,
                                                  const std::string& certificate_file,
                                                  const std::string& private_key_file,
                                                  const SelfSignedOptions& options,
                                                  const util::Clock& clock) {
  ServerCertificate out;
  if (!certificate_file.empty() || !private_key_file.empty()) {
    if (certificate_file.empty() || private_key_file.empty()) {
      return util::InvalidArgument(
          "tls.certificate and tls.private_key must be set together (or both left empty to "
          "use a self-signed certificate in the state directory)");
    }
    out.certificate_file = certificate_file;
    out.private_key_file = private_key_file;
  } else {
    out.certificate_file = store::JoinPath(state_dir, "server.crt");
    out.private_key_file = store::JoinPath(state_dir, "server.key");
    BLUETRACE_ASSIGN_OR_RETURN(const bool cert_exists, fs.Exists(out.certificate_file));
    BLUETRACE_ASSIGN_OR_RETURN(const bool key_exists, fs.Exists(out.private_key_file));
    if (cert_exists != key_exists) {
      const std::string& present = cert_exists ? out.certificate_file : out.private_key_file;
      const std::string& missing = cert_exists ? out.private_key_file : out.certificate_file;
      return util::FailedPrecondition(present + " exists but " + missing +
                                      " does not; restore the missing file, or remove " + present +
                                      " to let the server create a new self-signed pair");
    }
    if (!cert_exists) {
      BLUETRACE_ASSIGN_OR_RETURN(const GeneratedCertificate generated,
                                 GenerateSelfSigned(options, clock));
      BLUETRACE_RETURN_IF_ERROR(fs.CreateDirs(state_dir, 0700));
      BLUETRACE_RETURN_IF_ERROR(
          WriteCertificateFiles(fs, out.certificate_file, out.private_key_file, generated));
      out.created = true;
    }
  }
  BLUETRACE_ASSIGN_OR_RETURN(const std::string pem, fs.ReadFile(out.certificate_file));
  Result<std::string> fingerprint = CertificateFingerprintSha256(pem);
  if (!fingerprint.ok()) return fingerprint.status().WithContext(out.certificate_file);
  out.fingerprint_sha256 = std::move(*fingerprint);
  return out;
}

}  // namespace bluetrace::net
