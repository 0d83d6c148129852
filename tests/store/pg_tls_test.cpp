// A database reached over TCP on a non-loopback-literal address (127.0.0.2 stands in for a
// remote host): only sslmode=verify-full with the right CA connects, and the connection is
// TLS; a wrong CA fails, and a weaker sslmode is refused before anything is sent.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "bluetrace/store/postgres/pg_connection.hpp"
#include "support/postgres_server.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::store {
namespace {

using test::ShellQuoteForTest;

// A free TCP port on `host` (bound and released).
int FreePort(const char* host) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, host, &a.sin_addr);
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

// A self-signed certificate naming IP address `ip` (its own CA).
bool MakeCertificate(const test::TempDir& dir, const std::string& stem, const std::string& ip) {
  const auto r = test::RunCommandForTest(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "
      "/CN=" +
      ip + " -addext subjectAltName=IP:" + ip + " -keyout " +
      ShellQuoteForTest(dir.File(stem + ".key")) + " -out " +
      ShellQuoteForTest(dir.File(stem + ".crt")) + " 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.exit_code == 0;
}

TEST(PgTlsTest, ARemoteHostIsReachedOnlyWithVerifyFullAndTheRightCa) {
  test::TempDir dir;
  ASSERT_TRUE(MakeCertificate(dir, "db", "127.0.0.2"));
  ASSERT_TRUE(MakeCertificate(dir, "other", "127.0.0.2"));
  const int port = FreePort("127.0.0.2");
  ASSERT_NE(port, 0);
  test::PostgresServer server(
      test::PostgresTlsOptions{"127.0.0.2", port, dir.File("db.crt"), dir.File("db.key")});
  ASSERT_TRUE(server.ok()) << server.error();

  const std::string remote =
      "host=127.0.0.2 port=" + std::to_string(port) + " user=bt dbname=postgres";
  PgOptions o;
  o.conninfo = remote + " sslmode=verify-full sslrootcert=" + dir.File("db.crt");
  auto conn = PgConnection::Open(o);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto ssl =
      (*conn)->Exec("ssl in use", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
  ASSERT_TRUE(ssl.ok()) << ssl.status().ToString();
  EXPECT_EQ(ssl->Get(0, 0), "t");

  // Another CA: the certificate does not verify, nothing is sent.
  o.conninfo = remote + " sslmode=verify-full sslrootcert=" + dir.File("other.crt");
  auto wrong = PgConnection::Open(o);
  EXPECT_EQ(wrong.status().code(), util::StatusCode::kUnavailable) << wrong.status().ToString();
  EXPECT_NE(wrong.status().message().find("certificate"), std::string::npos)
      << wrong.status().ToString();

  // Encrypted but unverified, or maybe not encrypted: refused before connecting.
  for (const char* mode : {"require", "verify-ca", "prefer", "disable"}) {
    o.conninfo = remote + " sslmode=" + mode + " sslrootcert=" + dir.File("db.crt");
    EXPECT_EQ(PgConnection::Open(o).status().code(), util::StatusCode::kInvalidArgument) << mode;
  }
}

}  // namespace
}  // namespace bluetrace::store
