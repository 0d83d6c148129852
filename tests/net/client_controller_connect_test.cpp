// ClientController's connection to the real TLS server (client_controller_fixture.hpp): the
// server's identity by the CA file or by trust on first use against the known-servers
// file, and a server that never answers the handshake.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "bluetrace/net/certificate.hpp"
#include "client_controller_fixture.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::service {
namespace {

using namespace std::chrono_literals;
using net::MakeClientController;
using test::ClientControllerTest;
using test::kKara;
using util::StatusCode;

TEST_F(ClientControllerTest, ConnectsVerifyingTheCertificateWithTheCaFile) {
  auto c = MakeClientController(Options("a"), test::TestClientEnv(h_.clock()));
  auto id = c->Connect(nullptr);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_TRUE(id->verified_by_ca);
  EXPECT_EQ(id->fingerprint, fingerprint_);
  EXPECT_NE(c->udp_port(), 0);
}

TEST_F(ClientControllerTest, ACertificateNotSignedByTheCaFileIsRefused) {
  auto other = net::GenerateSelfSigned({});
  ASSERT_TRUE(other.ok());
  test::WriteFileForTest(h_.dir.File("other.crt"), other->certificate_pem);
  ClientOptions o = Options("a");
  o.ca_file = h_.dir.File("other.crt");
  auto id = MakeClientController(o, test::TestClientEnv(h_.clock()))->Connect(nullptr);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kPermissionDenied) << id.status().ToString();
}

TEST_F(ClientControllerTest, TrustOnFirstUseRefusesAnUnknownServerWithoutAPrompt) {
  ClientOptions o = Options("a");
  o.ca_file.clear();
  auto id = MakeClientController(o, test::TestClientEnv(h_.clock()))->Connect(nullptr);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(id.status().message().find("unknown server certificate " + fingerprint_),
            std::string::npos)
      << id.status().message();
  EXPECT_NE(id.status().message().find("--ca-file"), std::string::npos);
  struct stat st {};
  EXPECT_NE(stat(o.known_servers_file.c_str(), &st), 0);  // nothing remembered
}

TEST_F(ClientControllerTest, TrustOnFirstUseAsksOnceThenRemembers) {
  ClientOptions o = Options("a");
  o.ca_file.clear();
  int asked = 0;
  std::string asked_key, asked_fp;
  auto refuse = [&](const std::string& key, const std::string& fp) {
    ++asked;
    asked_key = key;
    asked_fp = fp;
    return false;
  };
  auto no = MakeClientController(o, test::TestClientEnv(h_.clock()))->Connect(refuse);
  ASSERT_FALSE(no.ok());
  EXPECT_EQ(no.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(asked_key, "127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_EQ(asked_fp, fingerprint_);

  auto accept = [&](const std::string&, const std::string&) {
    ++asked;
    return true;
  };
  auto first = MakeClientController(o, test::TestClientEnv(h_.clock()));
  auto id = first->Connect(accept);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_FALSE(id->verified_by_ca);
  EXPECT_FALSE(id->known);
  EXPECT_EQ(asked, 2);
  EXPECT_EQ(test::ReadFileForTest(o.known_servers_file), asked_key + " " + fingerprint_ + "\n");
  struct stat st {};
  ASSERT_EQ(stat(o.known_servers_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(h_.dir.File("state/bluetrace").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  // Scripted use (no prompt) now works, and nobody is asked again.
  auto second = MakeClientController(o, test::TestClientEnv(h_.clock()));
  auto again = second->Connect(nullptr);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->known);
  EXPECT_EQ(asked, 2);
  auto r = second->Login(kKara, util::SecretString("kara1234"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ClientLoginStatus::kWelcome);
}

TEST_F(ClientControllerTest, TrustOnFirstUseRefusesAChangedCertificate) {
  ClientOptions o = Options("a");
  o.ca_file.clear();
  std::string old = "SHA256:" + std::string(95, 'A');
  for (std::size_t i = 7 + 2; i < old.size(); i += 3) old[i] = ':';
  test::WriteFileForTest(h_.dir.File("known"),
                         "127.0.0.1:" + std::to_string(server_->port()) + " " + old + "\n");
  o.known_servers_file = h_.dir.File("known");
  bool asked = false;
  auto id = MakeClientController(o, test::TestClientEnv(h_.clock()))
                ->Connect([&](const std::string&, const std::string&) { return asked = true; });
  ASSERT_FALSE(id.ok());
  EXPECT_FALSE(asked);
  EXPECT_EQ(id.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(id.status().message(),
            "the server's certificate changed (was " + old + ", now " + fingerprint_ +
                "); if this is expected, remove its line from " + o.known_servers_file);
}

TEST_F(ClientControllerTest, ASilentServerTimesOutInsteadOfHanging) {
  // A TCP listener that never answers the TLS handshake (the kernel completes the TCP one).
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ClientOptions o = Options("a");
  o.server_port = ntohs(addr.sin_port);
  o.timeout_seconds = 1;
  const auto start = std::chrono::steady_clock::now();
  auto id = MakeClientController(o, test::TestClientEnv(h_.clock()))->Connect(nullptr);
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(id.status().message().find("timed out"), std::string::npos) << id.status().message();
  EXPECT_LT(took, 3s);
}

}  // namespace
}  // namespace bluetrace::service
