// TLS contexts for the server and the client (Boost.Asio 1.74 ssl::context over OpenSSL 3),
// and the small per-connection helpers that go with them.
//
// A context is built once (at start-up, or on a certificate reload) and shared by every
// session made from it; sessions must hold the returned shared_ptr so that a reload never
// frees the context under a live connection. A built context is
// only read afterwards, which OpenSSL allows from several threads. Nothing here throws:
// every failure is a Status naming the file or value and carrying OpenSSL's reason.
//
// Hardening shared by both sides: minimum version TLS 1.3 unless "1.2" is configured, no
// compression, no renegotiation, and for TLS 1.2 only ECDHE key exchange with AEAD
// ciphers (forward secrecy). The server prefers its own cipher order and issues no session
// tickets and keeps no session cache: our client holds one long-lived connection per login
// and never resumes, so tickets would only add a long-lived ticket key that weakens
// forward secrecy and post-handshake messages that race a client closing early.
#pragma once

#include <utility>  // before Asio: g++ 12 in C++20 needs it (Asio 1.74 misses it under g++ 12 in C++20)

#include <openssl/ssl.h>
#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <string>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::net {

struct TlsServerOptions {
  std::string certificate_file;     // PEM: the server certificate, then any intermediates
  std::string private_key_file;     // PEM, unencrypted; group/other access is refused
  std::string min_version = "1.3";  // "1.3" or "1.2"
};

// A server context with the certificate chain and key loaded from `fs`. Checks, in order:
// min_version ("1.1" and anything else but "1.3"/"1.2" is kInvalidArgument naming the
// value), the key file's mode (kPermissionDenied, see CheckPrivateKeyFileMode), that both
// files can be read (the FileSystem's Status), that the certificate file holds a PEM chain
// and the key file an unencrypted PEM key (kInvalidArgument naming the file and OpenSSL's
// reason), and that the key belongs to the certificate (kInvalidArgument naming both).
util::Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerContext(
    const TlsServerOptions& options, store::FileSystem& fs);

struct TlsClientOptions {
  // PEM file of trusted CA certificates (or the server's self-signed certificate itself).
  // Empty: trust on first use; the context verifies nothing and the caller must compare
  // PeerCertificateFingerprint with the fingerprint it stored for this server.
  std::string ca_file;
  // The DNS name or IP literal the server certificate must name (subjectAltName), checked
  // during the handshake when ca_file is set; also sent as SNI when it is a DNS name.
  std::string expected_host;
  std::string min_version = "1.3";  // "1.3" or "1.2"
};

// A client context. With ca_file: verify_peer against exactly those CAs (not the system
// store) and the RFC 6125 host check of expected_host, done by OpenSSL's own verifier (the
// same X509_check_host / X509_check_ip_asc matching as Asio's host_name_verification, but
// the failure keeps a precise verify result such as "hostname mismatch" that
// DescribeTlsError reports). Errors: kInvalidArgument for a bad min_version, an
// expected_host that is neither a DNS name nor an IP literal (or empty with a ca_file), or
// a CA file without a usable certificate (naming the file); the FileSystem's Status when
// the CA file cannot be read.
util::Result<std::shared_ptr<boost::asio::ssl::context>> MakeClientContext(
    const TlsClientOptions& options, store::FileSystem& fs);

// Per-connection set-up of a client stream made from MakeClientContext's context, before
// its handshake: SNI for a DNS expected_host (IP literals are not sent, RFC 6066).
// Call with stream.native_handle(). kInvalidArgument when `ssl` is null.
util::Status ConfigureClientStream(SSL* ssl, const TlsClientOptions& options);

// Fingerprint (the format of certificate.hpp, "SHA256:AB:CD:...") of the certificate the
// peer presented in a finished handshake. kFailedPrecondition when there is none.
util::Result<std::string> PeerCertificateFingerprint(const SSL* ssl);

// True when `ec`, from a read on a TLS stream, means the peer closed the transport without
// a TLS close_notify: Asio's ssl::error::stream_truncated, or the SSL-category error that
// OpenSSL 3 raises for an unexpected EOF and Asio 1.74 passes through unmapped. A clean
// close (close_notify) is boost::asio::error::eof and is not a truncation.
bool IsTruncation(const boost::system::error_code& ec);

// One line for logs: OpenSSL errors as "<library>: <reason>" (e.g. "SSL routines:
// certificate verify failed"), followed by the certificate verify result when `ssl` is
// given and verification failed (e.g. "(hostname mismatch)"); truncation and clean close
// described in words; any other error's own message.
std::string DescribeTlsError(const boost::system::error_code& ec, const SSL* ssl = nullptr);

}  // namespace bluetrace::net
