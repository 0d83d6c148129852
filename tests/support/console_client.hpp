// ConsoleClient: the HTTPS client of the console tests (net/console_server.hpp). One
// request per fresh TLS connection to 127.0.0.1:`port` (as the console serves them), the
// certificate not checked but its fingerprint kept; form fields read back from the HTML;
// a staff login that returns the session cookie and the page's CSRF token.
// Header-only; for tests only.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <utility>  // before Asio (g++ 12, C++20)

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdint>
#include <regex>
#include <span>
#include <string>
#include <vector>

#include "bluetrace/net/certificate.hpp"

namespace bluetrace::test {

struct ConsoleReply {
  int status = 0;                    // 0: no answer
  std::vector<std::string> cookies;  // Set-Cookie values
  std::string location;
  std::string body;
  std::string peer_fingerprint;  // of the certificate the console served
  boost::beast::http::response<boost::beast::http::string_body> raw;
};

// The SHA-256 fingerprint (net/certificate.hpp's format) of the peer's certificate.
inline std::string PeerFingerprint(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return "";
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  std::string fp;
  if (len > 0) {
    auto r = net::DerFingerprintSha256(
        std::span<const std::uint8_t>(der, static_cast<std::size_t>(len)));
    if (r.ok()) fp = *r;
  }
  OPENSSL_free(der);
  X509_free(cert);
  return fp;
}

// One request over a fresh TLS connection.
inline ConsoleReply ConsoleSend(std::uint16_t port, boost::beast::http::verb method,
                                const std::string& target, const std::string& cookie = "",
                                const std::string& body = "",
                                const std::string& extra_header = "") {
  namespace asio = boost::asio;
  namespace http = boost::beast::http;
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);
  asio::ssl::stream<asio::ip::tcp::socket> stream(io, ctx);
  ConsoleReply reply;
  boost::system::error_code ec;
  stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return reply;
  stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec) return reply;
  reply.peer_fingerprint = PeerFingerprint(stream.native_handle());
  http::request<http::string_body> req(method, target, 11);
  req.set(http::field::host, "127.0.0.1");
  if (!cookie.empty()) req.set(http::field::cookie, cookie);
  if (!extra_header.empty()) req.set("X-Padding", extra_header);
  if (method == http::verb::post) {
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.body() = body;
    req.prepare_payload();
  }
  http::write(stream, req, ec);
  boost::beast::flat_buffer buffer;
  http::read(stream, buffer, reply.raw, ec);
  if (ec && ec != http::error::end_of_stream) return reply;
  reply.status = static_cast<int>(reply.raw.result_int());
  for (const auto& field : reply.raw) {
    if (field.name() == http::field::set_cookie) reply.cookies.emplace_back(field.value());
  }
  reply.location = std::string(reply.raw[http::field::location]);
  reply.body = reply.raw.body();
  return reply;
}

// The value of the form field `name` in `html`, or "".
inline std::string FormField(const std::string& html, const std::string& name) {
  std::smatch m;
  const std::regex re("name=\"" + name + "\" value=\"([^\"]*)\"");
  return std::regex_search(html, m, re) ? std::string(m[1]) : "";
}

struct ConsoleLogin {
  std::string cookie;  // "bt_session=<64 hex>", or "" when the login failed
  std::string csrf;    // the forms' token of the session
};

// Logs in as `name` through the login form and reads the contacts page's CSRF token.
inline ConsoleLogin ConsoleLogIn(std::uint16_t port, const std::string& name,
                                 const std::string& password) {
  namespace http = boost::beast::http;
  ConsoleLogin login;
  ConsoleReply form = ConsoleSend(port, http::verb::get, "/login");
  const std::string login_csrf = FormField(form.body, "csrf");
  ConsoleReply done = ConsoleSend(port, http::verb::post, "/login", "bt_login=" + login_csrf,
                                  "csrf=" + login_csrf + "&name=" + name + "&password=" + password);
  if (done.status != 303 || done.location != "/contacts") return login;
  for (const auto& c : done.cookies) {
    if (c.rfind("bt_session=", 0) == 0) login.cookie = c.substr(0, c.find(';'));
  }
  ConsoleReply page = ConsoleSend(port, http::verb::get, "/contacts", login.cookie);
  login.csrf = FormField(page.body, "csrf");
  return login;
}

}  // namespace bluetrace::test
