#include "bluetrace/net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/system/system_error.hpp>
#include <cstdio>
#include <vector>

#include "bluetrace/net/certificate.hpp"
#include "bluetrace/util/ip_literal.hpp"
#include "bluetrace/util/secret.hpp"
#include "openssl_helpers.hpp"

namespace bluetrace::net {
namespace {

namespace ssl = boost::asio::ssl;
using detail::BioPtr;
using detail::OpenSslFailure;
using detail::X509Ptr;
using util::Result;
using util::Status;
using util::StatusCode;

using ContextPtr = std::shared_ptr<ssl::context>;

// PEM files larger than this are not certificates or keys we would ever use.
constexpr std::uint64_t kMaxPemFileBytes = 1 << 20;

// TLS 1.2 only (TLS 1.3 suites are OpenSSL's defaults, all AEAD with ephemeral keys).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256";

Result<long> ParseMinVersion(const std::string& value) {
  if (value == "1.3") return static_cast<long>(TLS1_3_VERSION);
  if (value == "1.2") return static_cast<long>(TLS1_2_VERSION);
  return util::InvalidArgument("TLS min_version \"" + value +
                               "\" is not supported; use \"1.3\" or \"1.2\"");
}

Result<ContextPtr> NewContext(ssl::context::method method) {
  try {
    return std::make_shared<ssl::context>(method);
  } catch (const boost::system::system_error& e) {
    // Asio's constructor is the one call without an error_code overload.
    return util::Internal(std::string("creating the TLS context: ") + e.what());
  }
}

// Settings common to server and client contexts.
Status Harden(SSL_CTX* ctx, long min_version) {
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // SSL_CTX_set_min_proto_version is a macro over this call.
  if (SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, min_version, nullptr) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    return OpenSslFailure(StatusCode::kInternal, "configuring the TLS context");
  }
  return Status::Ok();
}

// Loads the leaf certificate and any intermediates following it.
Status LoadCertificateChain(SSL_CTX* ctx, std::string_view pem, const std::string& path) {
  ERR_clear_error();
  BioPtr bio = detail::MemoryBio(pem);
  if (!bio) return util::InvalidArgument(path + ": file too large");
  X509Ptr leaf(PEM_read_bio_X509_AUX(bio.get(), nullptr, nullptr, nullptr));
  if (!leaf) {
    return OpenSslFailure(StatusCode::kInvalidArgument,
                          path + ": no PEM certificate could be read");
  }
  if (SSL_CTX_use_certificate(ctx, leaf.get()) != 1) {
    return OpenSslFailure(StatusCode::kInvalidArgument, path + ": certificate not usable");
  }
  for (int n = 2;; ++n) {
    X509Ptr extra(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!extra) {
      const unsigned long err = ERR_peek_last_error();
      if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
        ERR_clear_error();  // the normal end of the chain
        return Status::Ok();
      }
      return OpenSslFailure(StatusCode::kInvalidArgument,
                            path + ": certificate " + std::to_string(n) + " of the chain");
    }
    // SSL_CTX_add0_chain_cert is a macro over this call; it takes ownership on success.
    if (SSL_CTX_ctrl(ctx, SSL_CTRL_CHAIN_CERT, 0, extra.get()) != 1) {
      return OpenSslFailure(StatusCode::kInvalidArgument,
                            path + ": certificate " + std::to_string(n) + " of the chain");
    }
    static_cast<void>(extra.release());
  }
}

// Refuses encrypted keys instead of letting OpenSSL prompt on the terminal.
int NoPassword(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return -1; }

Status LoadPrivateKey(SSL_CTX* ctx, std::string_view pem, const TlsServerOptions& options) {
  ERR_clear_error();
  BioPtr bio = detail::MemoryBio(pem);
  if (!bio) return util::InvalidArgument(options.private_key_file + ": file too large");
  detail::EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr));
  if (!key) {
    return OpenSslFailure(
        StatusCode::kInvalidArgument,
        options.private_key_file + ": no unencrypted PEM private key could be read");
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return OpenSslFailure(StatusCode::kInvalidArgument, options.private_key_file +
                                                            " does not match the certificate in " +
                                                            options.certificate_file);
  }
  return Status::Ok();
}

}  // namespace

Result<ContextPtr> MakeServerContext(const TlsServerOptions& options, store::FileSystem& fs) {
  BLUETRACE_ASSIGN_OR_RETURN(const long min_version, ParseMinVersion(options.min_version));
  if (options.certificate_file.empty() || options.private_key_file.empty()) {
    return util::InvalidArgument("TLS server needs both a certificate file and a key file");
  }
  BLUETRACE_RETURN_IF_ERROR(CheckPrivateKeyFileMode(fs, options.private_key_file));
  BLUETRACE_ASSIGN_OR_RETURN(const std::string chain,
                             fs.ReadFile(options.certificate_file, kMaxPemFileBytes));
  Result<std::string> key_read = fs.ReadFile(options.private_key_file, kMaxPemFileBytes);
  if (!key_read.ok()) return key_read.status();
  const util::SecretString key_pem(std::move(*key_read));

  BLUETRACE_ASSIGN_OR_RETURN(ContextPtr context, NewContext(ssl::context::tls_server));
  SSL_CTX* ctx = context->native_handle();
  BLUETRACE_RETURN_IF_ERROR(Harden(ctx, min_version));
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  // SSL_OP_NO_TICKET alone makes TLS 1.3 fall back to stateful tickets; issue none at all.
  if (SSL_CTX_set_num_tickets(ctx, 0) != 1) {
    return OpenSslFailure(StatusCode::kInternal, "disabling session tickets");
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // An idle session gives its record buffers (about 34 KiB) back to the allocator; OpenSSL
  // takes them again when a record comes or goes (docs/ARCHITECTURE.md, "Memory per session").
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  // The chain sent is the certificate file's, as loaded below. Without this OpenSSL would
  // also try to build one from the context's (empty) trust store at every handshake: an
  // X509_verify_cert per connection that can add nothing.
  SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);

  BLUETRACE_RETURN_IF_ERROR(LoadCertificateChain(ctx, chain, options.certificate_file));
  BLUETRACE_RETURN_IF_ERROR(LoadPrivateKey(ctx, key_pem.view(), options));
  return context;
}

Result<ContextPtr> MakeClientContext(const TlsClientOptions& options, store::FileSystem& fs) {
  BLUETRACE_ASSIGN_OR_RETURN(const long min_version, ParseMinVersion(options.min_version));
  const bool is_ip = util::IsIpLiteral(options.expected_host);
  if (!options.expected_host.empty() && !is_ip && !IsValidDnsName(options.expected_host)) {
    return util::InvalidArgument("expected server host \"" + options.expected_host +
                                 "\" is neither a DNS name nor an IP address");
  }
  if (!options.ca_file.empty() && options.expected_host.empty()) {
    return util::InvalidArgument("a CA file (" + options.ca_file +
                                 ") needs the expected server host to check against");
  }
  BLUETRACE_ASSIGN_OR_RETURN(ContextPtr context, NewContext(ssl::context::tls_client));
  SSL_CTX* ctx = context->native_handle();
  BLUETRACE_RETURN_IF_ERROR(Harden(ctx, min_version));

  boost::system::error_code ec;
  if (options.ca_file.empty()) {
    // Trust on first use: the caller pins PeerCertificateFingerprint instead.
    context->set_verify_mode(ssl::verify_none, ec);
    if (ec) return util::Internal("setting verify_none: " + ec.message());
    return context;
  }

  BLUETRACE_ASSIGN_OR_RETURN(const std::string ca_pem,
                             fs.ReadFile(options.ca_file, kMaxPemFileBytes));
  context->add_certificate_authority(boost::asio::buffer(ca_pem), ec);
  if (ec) {
    return util::InvalidArgument(options.ca_file +
                                 ": no usable CA certificate: " + DescribeTlsError(ec));
  }
  context->set_verify_mode(ssl::verify_peer, ec);
  if (ec) return util::Internal("setting verify_peer: " + ec.message());

  X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int set = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, options.expected_host.c_str())
                        : X509_VERIFY_PARAM_set1_host(param, options.expected_host.c_str(),
                                                      options.expected_host.size());
  if (set != 1) {
    return OpenSslFailure(StatusCode::kInternal,
                          "setting the expected host " + options.expected_host);
  }
  return context;
}

Status ConfigureClientStream(SSL* ssl, const TlsClientOptions& options) {
  if (ssl == nullptr) return util::InvalidArgument("ConfigureClientStream: null SSL handle");
  if (util::IsIpLiteral(options.expected_host) || options.expected_host.empty())
    return Status::Ok();
  // SSL_set_tlsext_host_name is a macro with a C cast; this is its expansion.
  if (SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(options.expected_host.c_str())) != 1) {
    return OpenSslFailure(StatusCode::kInvalidArgument, "setting SNI to " + options.expected_host);
  }
  return Status::Ok();
}

Result<std::string> PeerCertificateFingerprint(const SSL* ssl) {
  if (ssl == nullptr) return util::InvalidArgument("PeerCertificateFingerprint: null SSL handle");
  X509Ptr peer(SSL_get1_peer_certificate(ssl));
  if (!peer) return util::FailedPrecondition("the peer presented no certificate");
  unsigned char* der = nullptr;
  const int len = i2d_X509(peer.get(), &der);
  if (len <= 0) return OpenSslFailure(StatusCode::kInternal, "encoding the peer certificate");
  Result<std::string> fingerprint =
      DerFingerprintSha256(std::span<const std::uint8_t>(der, static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  return fingerprint;
}

bool IsTruncation(const boost::system::error_code& ec) {
  if (ec == ssl::error::stream_truncated) return true;
  if (ec.category() != boost::asio::error::get_ssl_category()) return false;
  // Asio stores ERR_get_error()'s unsigned long in an int; undo that before decoding.
  const auto err = static_cast<unsigned long>(static_cast<unsigned int>(ec.value()));
  return ERR_GET_LIB(err) == ERR_LIB_SSL &&
         ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

std::string DescribeTlsError(const boost::system::error_code& ec, const SSL* ssl) {
  if (!ec) return "no error";
  if (IsTruncation(ec)) {
    return "the peer closed the connection without a TLS close_notify (truncated)";
  }
  if (ec == boost::asio::error::eof) return "the peer closed the TLS connection";
  if (ec.category() != boost::asio::error::get_ssl_category()) return ec.message();

  // The SSL library's strings are loaded with the first SSL_CTX; an error can be described
  // before that (run-once, cheap afterwards).
  OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, nullptr);
  const auto err = static_cast<unsigned long>(static_cast<unsigned int>(ec.value()));
  const char* lib = ERR_lib_error_string(err);
  const char* reason = ERR_reason_error_string(err);
  std::string text;
  if (reason != nullptr) {
    text = lib != nullptr ? std::string(lib) + ": " + reason : std::string(reason);
  } else {
    std::array<char, 32> hex{};
    std::snprintf(hex.data(), hex.size(), "0x%08lx", err);
    text = std::string("OpenSSL error ") + hex.data();
  }
  if (ssl != nullptr) {
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      text += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
    }
  }
  return text;
}

}  // namespace bluetrace::net
