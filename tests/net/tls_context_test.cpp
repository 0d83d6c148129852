#include "bluetrace/net/tls_context.hpp"

#include <utility>  // before Asio (Asio 1.74 misses it under g++ 12 in C++20)

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <sys/stat.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "bluetrace/net/certificate.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::net {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using Stream = ssl::stream<asio::local::stream_protocol::socket>;
using boost::system::error_code;
using test::ReadFileForTest;
using test::RunCommandForTest;
using test::ShellQuoteForTest;
using test::TempDir;
using test::WriteFileForTest;
using util::StatusCode;

// A bound for a test that goes wrong, not a wait: every exchange here finishes in ms.
constexpr auto kDeadline = std::chrono::seconds(20);

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A server and a client TLS stream over a connected pair of Unix sockets (no network).
struct Connection {
  Connection(ssl::context& server_ctx, ssl::context& client_ctx)
      : server(asio::local::stream_protocol::socket(io), server_ctx),
        client(asio::local::stream_protocol::socket(io), client_ctx) {
    asio::local::connect_pair(server.next_layer(), client.next_layer());
  }

  // Runs both handshakes to completion; a side that fails closes its socket so the other
  // side fails too instead of waiting.
  void Handshake() {
    server.async_handshake(ssl::stream_base::server, [this](const error_code& ec) {
      server_ec = ec;
      if (ec) server.next_layer().close();
    });
    client.async_handshake(ssl::stream_base::client, [this](const error_code& ec) {
      client_ec = ec;
      if (ec) client.next_layer().close();
    });
    Run();
  }

  void Run() {
    io.restart();
    io.run_for(kDeadline);
  }

  asio::io_context io;
  Stream server;
  Stream client;
  error_code server_ec;
  error_code client_ec;
};

class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SelfSignedOptions options;
    options.include_host_name = false;
    auto gen = GenerateSelfSigned(options);
    ASSERT_TRUE(gen.ok()) << gen.status().ToString();
    ASSERT_TRUE(WriteCertificateFiles(fs_, cert_, key_, *gen).ok());
    fingerprint_ = *CertificateFingerprintSha256(gen->certificate_pem);
  }

  std::shared_ptr<ssl::context> Server(const std::string& min_version = "1.3") {
    auto ctx = MakeServerContext({cert_, key_, min_version}, fs_);
    EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
    return ctx.ok() ? *ctx : nullptr;
  }

  std::shared_ptr<ssl::context> Client(const TlsClientOptions& options) {
    auto ctx = MakeClientContext(options, fs_);
    EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
    return ctx.ok() ? *ctx : nullptr;
  }

  // A finished handshake between Server() and a client trusting the certificate.
  void HandshakeOk(Connection& c, const TlsClientOptions& options) {
    ASSERT_TRUE(ConfigureClientStream(c.client.native_handle(), options).ok());
    c.Handshake();
    ASSERT_FALSE(c.client_ec) << DescribeTlsError(c.client_ec, c.client.native_handle());
    ASSERT_FALSE(c.server_ec) << DescribeTlsError(c.server_ec);
  }

  store::PosixFileSystem& fs_ = store::PosixFileSystem::Instance();
  TempDir dir_;
  std::string cert_ = dir_.File("server.crt");
  std::string key_ = dir_.File("server.key");
  std::string fingerprint_;
};

TEST_F(TlsContextTest, ServerContextLoadsTheGeneratedCertificateHardened) {
  auto ctx = Server();
  ASSERT_TRUE(ctx);
  SSL_CTX* native = ctx->native_handle();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(native), TLS1_3_VERSION);
  const std::uint64_t wanted = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET;
  EXPECT_EQ(SSL_CTX_get_options(native) & wanted, wanted);
  EXPECT_EQ(SSL_CTX_get_num_tickets(native), 0u);
  EXPECT_EQ(SSL_CTX_get_session_cache_mode(native), SSL_SESS_CACHE_OFF);
  // Idle sessions hold no record buffers (issue 14 §3).
  EXPECT_NE(SSL_CTX_get_mode(native) & SSL_MODE_RELEASE_BUFFERS, 0);
  // The chain is the certificate file's; none is built at each handshake (issue 14 §4).
  EXPECT_NE(SSL_CTX_get_mode(native) & SSL_MODE_NO_AUTO_CHAIN, 0);

  auto tls12 = Server("1.2");
  ASSERT_TRUE(tls12);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(tls12->native_handle()), TLS1_2_VERSION);
}

TEST_F(TlsContextTest, UnsupportedMinVersionIsRefusedNamingIt) {
  for (const char* version : {"1.1", "1.0", "", "TLSv1.3", "1.4"}) {
    auto server = MakeServerContext({cert_, key_, version}, fs_);
    ASSERT_FALSE(server.ok()) << version;
    EXPECT_EQ(server.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(Has(server.status().message(), "\"" + std::string(version) + "\""))
        << server.status().message();
    auto client = MakeClientContext({cert_, "127.0.0.1", version}, fs_);
    EXPECT_EQ(client.status().code(), StatusCode::kInvalidArgument) << version;
  }
}

TEST_F(TlsContextTest, KeyReadableByOthersIsRefusedBeforeLoading) {
  ASSERT_EQ(chmod(key_.c_str(), 0644), 0);
  auto ctx = MakeServerContext({cert_, key_}, fs_);
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Has(ctx.status().message(), key_ + " has mode 0644")) << ctx.status().message();
  EXPECT_TRUE(Has(ctx.status().message(), "chmod 600")) << ctx.status().message();
}

TEST_F(TlsContextTest, KeyOfAnotherCertificateIsRefused) {
  auto other = GenerateSelfSigned({});
  ASSERT_TRUE(other.ok());
  const std::string other_key = dir_.File("other.key");
  ASSERT_TRUE(fs_.ReplaceFileAtomically(other_key, other->private_key_pem.view(), 0600).ok());
  auto ctx = MakeServerContext({cert_, other_key}, fs_);
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      Has(ctx.status().message(), other_key + " does not match the certificate in " + cert_))
      << ctx.status().message();
}

TEST_F(TlsContextTest, GarbageCertificateFileIsRefusedNamingIt) {
  WriteFileForTest(cert_, "this is not a certificate\n");
  auto ctx = MakeServerContext({cert_, key_}, fs_);
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Has(ctx.status().message(), cert_ + ": no PEM certificate"))
      << ctx.status().message();
  EXPECT_TRUE(Has(ctx.status().message(), "no start line")) << ctx.status().message();
}

TEST_F(TlsContextTest, MissingFilesAreNotFoundNamingThem) {
  auto no_cert = MakeServerContext({dir_.File("absent.crt"), key_}, fs_);
  EXPECT_EQ(no_cert.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Has(no_cert.status().message(), dir_.File("absent.crt")));
  auto no_key = MakeServerContext({cert_, dir_.File("absent.key")}, fs_);
  EXPECT_EQ(no_key.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Has(no_key.status().message(), dir_.File("absent.key")));
}

TEST_F(TlsContextTest, EncryptedKeyIsRefusedWithoutPrompting) {
  const std::string encrypted = dir_.File("encrypted.key");
  auto cli =
      RunCommandForTest("umask 077 && openssl pkey -in " + ShellQuoteForTest(key_) +
                        " -aes256 -passout pass:secret -out " + ShellQuoteForTest(encrypted));
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  auto ctx = MakeServerContext({cert_, encrypted}, fs_);
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Has(ctx.status().message(), encrypted + ": no unencrypted PEM private key"))
      << ctx.status().message();
}

TEST_F(TlsContextTest, ClientOptionsAreValidated) {
  auto bad_host = MakeClientContext({cert_, "not a host", "1.3"}, fs_);
  EXPECT_EQ(bad_host.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Has(bad_host.status().message(), "not a host"));
  auto no_host = MakeClientContext({cert_, "", "1.3"}, fs_);
  EXPECT_EQ(no_host.status().code(), StatusCode::kInvalidArgument);

  WriteFileForTest(dir_.File("ca.crt"), "garbage\n");
  auto bad_ca = MakeClientContext({dir_.File("ca.crt"), "127.0.0.1", "1.3"}, fs_);
  EXPECT_EQ(bad_ca.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Has(bad_ca.status().message(), dir_.File("ca.crt") + ": no usable CA"))
      << bad_ca.status().message();
  auto missing_ca = MakeClientContext({dir_.File("none.crt"), "127.0.0.1", "1.3"}, fs_);
  EXPECT_EQ(missing_ca.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ConfigureClientStream(nullptr, {}).code(), StatusCode::kInvalidArgument);
}

TEST_F(TlsContextTest, Tls13HandshakeVerifiesTheServerAndCarriesData) {
  auto server_ctx = Server();
  TlsClientOptions options{cert_, "127.0.0.1", "1.3"};
  auto client_ctx = Client(options);
  ASSERT_TRUE(server_ctx && client_ctx);
  Connection c(*server_ctx, *client_ctx);
  HandshakeOk(c, options);
  EXPECT_EQ(SSL_version(c.client.native_handle()), TLS1_3_VERSION);
  // The server sent the file's chain as it is: the leaf alone.
  STACK_OF(X509)* sent = SSL_get_peer_cert_chain(c.client.native_handle());
  ASSERT_NE(sent, nullptr);
  EXPECT_EQ(sk_X509_num(sent), 1);
  EXPECT_EQ(SSL_get_verify_result(c.client.native_handle()), X509_V_OK);
  EXPECT_EQ(*PeerCertificateFingerprint(c.client.native_handle()), fingerprint_);
  EXPECT_EQ(PeerCertificateFingerprint(c.server.native_handle()).status().code(),
            StatusCode::kFailedPrecondition);  // clients present no certificate

  std::string got(5, '\0');
  asio::async_write(c.client, asio::buffer(std::string_view("hello")),
                    [](const error_code& ec, std::size_t) { EXPECT_FALSE(ec); });
  asio::async_read(c.server, asio::buffer(got),
                   [](const error_code& ec, std::size_t) { EXPECT_FALSE(ec); });
  c.Run();
  EXPECT_EQ(got, "hello");
}

TEST_F(TlsContextTest, DnsExpectedHostIsVerifiedAndSentAsSni) {
  auto server_ctx = Server();
  TlsClientOptions options{cert_, "localhost", "1.3"};
  auto client_ctx = Client(options);
  ASSERT_TRUE(server_ctx && client_ctx);
  Connection c(*server_ctx, *client_ctx);
  HandshakeOk(c, options);
  const char* sni = SSL_get_servername(c.server.native_handle(), TLSEXT_NAMETYPE_host_name);
  ASSERT_NE(sni, nullptr);
  EXPECT_STREQ(sni, "localhost");
}

TEST_F(TlsContextTest, WrongExpectedHostFailsVerification) {
  struct Case {
    const char* host;
    const char* reason;
  };
  for (const Case& k : {Case{"127.0.0.2", "IP address mismatch"},
                        Case{"tracer.example.org", "hostname mismatch"}}) {
    auto server_ctx = Server();
    TlsClientOptions options{cert_, k.host, "1.3"};
    auto client_ctx = Client(options);
    ASSERT_TRUE(server_ctx && client_ctx);
    Connection c(*server_ctx, *client_ctx);
    ASSERT_TRUE(ConfigureClientStream(c.client.native_handle(), options).ok());
    c.Handshake();
    ASSERT_TRUE(c.client_ec) << k.host;
    EXPECT_TRUE(c.server_ec) << k.host;
    const std::string why = DescribeTlsError(c.client_ec, c.client.native_handle());
    EXPECT_TRUE(Has(why, "certificate verify failed")) << why;
    EXPECT_TRUE(Has(why, k.reason)) << why;
    EXPECT_FALSE(IsTruncation(c.client_ec));
  }
}

TEST_F(TlsContextTest, CertificateFromAnUntrustedIssuerFailsVerification) {
  auto stranger = GenerateSelfSigned({});
  ASSERT_TRUE(stranger.ok());
  WriteFileForTest(dir_.File("stranger.crt"), stranger->certificate_pem);
  auto server_ctx = Server();
  TlsClientOptions options{dir_.File("stranger.crt"), "127.0.0.1", "1.3"};
  auto client_ctx = Client(options);
  ASSERT_TRUE(server_ctx && client_ctx);
  Connection c(*server_ctx, *client_ctx);
  c.Handshake();
  ASSERT_TRUE(c.client_ec);
  EXPECT_TRUE(
      Has(DescribeTlsError(c.client_ec, c.client.native_handle()), "certificate verify failed"));
}

TEST_F(TlsContextTest, TrustOnFirstUseClientSeesTheFingerprint) {
  auto server_ctx = Server();
  TlsClientOptions options{"", "127.0.0.1", "1.3"};  // no CA file
  auto client_ctx = Client(options);
  ASSERT_TRUE(server_ctx && client_ctx);
  EXPECT_EQ(SSL_CTX_get_verify_mode(client_ctx->native_handle()), SSL_VERIFY_NONE);
  Connection c(*server_ctx, *client_ctx);
  HandshakeOk(c, options);
  EXPECT_EQ(*PeerCertificateFingerprint(c.client.native_handle()), fingerprint_);
}

TEST_F(TlsContextTest, Tls12OnlyClientIsRefusedByA13Server) {
  auto server_ctx = Server("1.3");
  TlsClientOptions options{cert_, "127.0.0.1", "1.2"};
  auto client_ctx = Client(options);
  ASSERT_TRUE(server_ctx && client_ctx);
  // An old client: at most TLS 1.2 (SSL_CTX_set_max_proto_version's expansion).
  SSL_CTX_ctrl(client_ctx->native_handle(), SSL_CTRL_SET_MAX_PROTO_VERSION, TLS1_2_VERSION,
               nullptr);
  Connection c(*server_ctx, *client_ctx);
  c.Handshake();
  ASSERT_TRUE(c.server_ec);
  ASSERT_TRUE(c.client_ec);
  EXPECT_TRUE(Has(DescribeTlsError(c.server_ec), "unsupported protocol"))
      << DescribeTlsError(c.server_ec);
}

TEST_F(TlsContextTest, Tls12ClientIsAcceptedWhenConfiguredWithForwardSecrecy) {
  auto server_ctx = Server("1.2");
  TlsClientOptions options{cert_, "127.0.0.1", "1.2"};
  auto client_ctx = Client(options);
  ASSERT_TRUE(server_ctx && client_ctx);
  SSL_CTX_ctrl(client_ctx->native_handle(), SSL_CTRL_SET_MAX_PROTO_VERSION, TLS1_2_VERSION,
               nullptr);
  Connection c(*server_ctx, *client_ctx);
  HandshakeOk(c, options);
  EXPECT_EQ(SSL_version(c.client.native_handle()), TLS1_2_VERSION);
  const std::string cipher = SSL_get_cipher_name(c.client.native_handle());
  EXPECT_EQ(cipher.rfind("ECDHE-ECDSA-", 0), 0u) << cipher;
}

TEST_F(TlsContextTest, AbruptCloseIsTruncationAndCloseNotifyIsNot) {
  auto server_ctx = Server();
  TlsClientOptions options{cert_, "127.0.0.1", "1.3"};
  auto client_ctx = Client(options);
  ASSERT_TRUE(server_ctx && client_ctx);

  // The server's process dies: its socket closes without a TLS close_notify.
  Connection abrupt(*server_ctx, *client_ctx);
  HandshakeOk(abrupt, options);
  abrupt.server.next_layer().close();
  error_code read_ec;
  char byte = 0;
  abrupt.client.async_read_some(asio::buffer(&byte, 1),
                                [&](const error_code& ec, std::size_t) { read_ec = ec; });
  abrupt.Run();
  ASSERT_TRUE(read_ec);
  EXPECT_TRUE(IsTruncation(read_ec)) << read_ec.category().name() << " " << read_ec.value();
  EXPECT_TRUE(Has(DescribeTlsError(read_ec), "truncated")) << DescribeTlsError(read_ec);

  // An orderly close: close_notify first.
  Connection orderly(*server_ctx, *client_ctx);
  HandshakeOk(orderly, options);
  orderly.server.async_shutdown([](const error_code&) {});
  read_ec = {};
  orderly.client.async_read_some(asio::buffer(&byte, 1), [&](const error_code& ec, std::size_t) {
    read_ec = ec;
    orderly.client.next_layer().close();
  });
  orderly.Run();
  EXPECT_EQ(read_ec, asio::error::eof);
  EXPECT_FALSE(IsTruncation(read_ec));
  EXPECT_EQ(DescribeTlsError(read_ec), "the peer closed the TLS connection");
}

// certs/make-ca.sh end to end: a private CA, a server certificate it signed, and a client
// that trusts only the CA verifying the server over TLS 1.3.
TEST_F(TlsContextTest, MakeCaScriptIssuesACertificateClientsVerify) {
  const std::string ca_dir = dir_.File("ca");
  const std::string script = "bash " + ShellQuoteForTest(test::SourcePath("certs/make-ca.sh")) +
                             " --dir " + ShellQuoteForTest(ca_dir);
  auto made = RunCommandForTest(script + " localhost 127.0.0.1 ::1");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const std::string ca_crt = ca_dir + "/ca.crt";
  const std::string ca_key = ca_dir + "/ca.key";
  const std::string crt = ca_dir + "/server.crt";
  const std::string key = ca_dir + "/server.key";
  EXPECT_EQ(*fs_.FileMode(ca_key), 0600u);
  EXPECT_EQ(*fs_.FileMode(key), 0600u);
  EXPECT_TRUE(Has(made.output, ca_crt)) << made.output;

  auto verified = RunCommandForTest("openssl verify -CAfile " + ShellQuoteForTest(ca_crt) + " " +
                                    ShellQuoteForTest(crt));
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_TRUE(Has(verified.output, crt + ": OK")) << verified.output;
  auto ca_info = InspectCertificate(ReadFileForTest(ca_crt));
  auto info = InspectCertificate(ReadFileForTest(crt));
  ASSERT_TRUE(ca_info.ok() && info.ok());
  EXPECT_EQ(ca_info->key_type, "EC P-256");
  EXPECT_EQ(info->key_type, "EC P-256");
  EXPECT_EQ(info->issuer, ca_info->subject);
  EXPECT_EQ(info->ip_addresses, (std::vector<std::string>{"127.0.0.1", "::1"}));
  auto ca_text = RunCommandForTest("openssl x509 -noout -text -in " + ShellQuoteForTest(ca_crt));
  EXPECT_TRUE(Has(ca_text.output, "CA:TRUE, pathlen:0")) << ca_text.output;

  // The server loads the script's files (chain with the CA appended, as an operator might)
  // and a client trusting only ca.crt verifies it.
  const std::string chain = ca_dir + "/chain.crt";
  WriteFileForTest(chain, ReadFileForTest(crt) + ReadFileForTest(ca_crt));
  auto server_ctx = MakeServerContext({chain, key, "1.3"}, fs_);
  ASSERT_TRUE(server_ctx.ok()) << server_ctx.status().ToString();
  TlsClientOptions options{ca_crt, "127.0.0.1", "1.3"};
  auto client_ctx = Client(options);
  ASSERT_TRUE(client_ctx);
  Connection c(**server_ctx, *client_ctx);
  HandshakeOk(c, options);
  EXPECT_EQ(SSL_version(c.client.native_handle()), TLS1_3_VERSION);
  // The server sent the file's chain as it is: the leaf, then the CA.
  STACK_OF(X509)* sent = SSL_get_peer_cert_chain(c.client.native_handle());
  ASSERT_NE(sent, nullptr);
  EXPECT_EQ(sk_X509_num(sent), 2);

  // Rerunning keeps the CA (clients keep trusting it) and issues a new server certificate;
  // only --force replaces the CA key.
  const std::string ca_key_bytes = ReadFileForTest(ca_key);
  const std::string crt_bytes = ReadFileForTest(crt);
  auto again = RunCommandForTest(script + " localhost 127.0.0.1");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(ReadFileForTest(ca_key), ca_key_bytes);
  EXPECT_NE(ReadFileForTest(crt), crt_bytes);
  EXPECT_EQ(RunCommandForTest("openssl verify -CAfile " + ShellQuoteForTest(ca_crt) + " " +
                              ShellQuoteForTest(crt))
                .exit_code,
            0);
  auto forced = RunCommandForTest(script + " --force localhost");
  ASSERT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_NE(ReadFileForTest(ca_key), ca_key_bytes);
  EXPECT_EQ(*fs_.FileMode(ca_key), 0600u);

  for (const char* bad_host : {"evil,IP:10.0.0.1", "1.2.3.256", ":::", "a_b.example"}) {
    auto bad = RunCommandForTest(script + " " + ShellQuoteForTest(bad_host));
    EXPECT_NE(bad.exit_code, 0) << bad_host;
    EXPECT_TRUE(Has(bad.output, "neither a DNS name nor an IP address")) << bad.output;
  }
}

// An SSL-library error as Asio 1.74 stores it: ERR_get_error()'s value (ERR_PACK without its
// C casts) narrowed to int, in the SSL category.
error_code SslError(int reason) {
  const unsigned long packed = (static_cast<unsigned long>(ERR_LIB_SSL) << ERR_LIB_OFFSET) |
                               static_cast<unsigned long>(reason);
  return error_code(static_cast<int>(packed), asio::error::get_ssl_category());
}

TEST(TlsErrorTest, OpenSslUnexpectedEofCountsAsTruncation) {
  // What OpenSSL 3 reports for an EOF without close_notify when it reads the socket itself.
  EXPECT_TRUE(IsTruncation(SslError(SSL_R_UNEXPECTED_EOF_WHILE_READING)));
  EXPECT_TRUE(IsTruncation(ssl::error::stream_truncated));
  const error_code verify = SslError(SSL_R_CERTIFICATE_VERIFY_FAILED);
  EXPECT_FALSE(IsTruncation(verify));
  EXPECT_EQ(DescribeTlsError(verify), "SSL routines: certificate verify failed");
  EXPECT_FALSE(IsTruncation(asio::error::connection_reset));
  EXPECT_FALSE(IsTruncation(asio::error::eof));
  EXPECT_EQ(DescribeTlsError(error_code()), "no error");
  EXPECT_EQ(DescribeTlsError(asio::error::connection_reset),
            error_code(asio::error::connection_reset).message());
}

}  // namespace
}  // namespace bluetrace::net
