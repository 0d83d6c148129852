// The [storage] and [postgres] keys: what the configuration accepts, and the PostgreSQL
// pool options it gives (the password file's rules). No database needed.
#include "bluetrace/service/storage_config.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "bluetrace/service/server_config.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::service {
namespace {

util::Status Parse(const std::string& toml, ServerConfig& c) {
  util::Status st = ParseServerConfig(toml, "server.toml", c);
  if (!st.ok()) return st;
  return ValidateServerConfig(c);
}

TEST(StorageConfigTest, TheDefaultIsTheFilesAndPostgresIsChosenByName) {
  ServerConfig c;
  EXPECT_EQ(c.storage_backend, "files");
  ASSERT_TRUE(Parse("[storage]\nbackend = \"postgres\"\n", c).ok());
  EXPECT_EQ(c.storage_backend, "postgres");
  util::Status st = Parse("[storage]\nbackend = \"mysql\"\n", c);
  EXPECT_EQ(st.code(), util::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("storage.backend"), std::string::npos) << st.ToString();
}

TEST(StorageConfigTest, APasswordInTheConnectionStringIsRefused) {
  for (const char* conninfo :
       {"host=/run/postgresql dbname=bt password=secret", "postgresql://bt:secret@localhost/bt"}) {
    ServerConfig c;
    util::Status st =
        Parse(std::string("[storage]\nbackend = \"postgres\"\n[postgres]\nconninfo = \"") +
                  conninfo + "\"\n",
              c);
    EXPECT_EQ(st.code(), util::StatusCode::kInvalidArgument) << conninfo;
    EXPECT_NE(st.message().find("postgres.conninfo"), std::string::npos) << st.ToString();
    EXPECT_NE(st.message().find("password"), std::string::npos) << st.ToString();
    EXPECT_EQ(st.message().find("secret"), std::string::npos) << st.ToString();
  }
}

TEST(StorageConfigTest, ARemoteHostNeedsVerifyFull) {
  ServerConfig c;
  c.storage_backend = "postgres";
  for (const char* conninfo :
       {"host=db.example.org dbname=bt", "host=192.0.2.7 sslmode=require",
        "hostaddr=192.0.2.7 sslmode=verify-ca", "host=/run/postgresql,db.example.org"}) {
    c.postgres_conninfo = conninfo;
    util::Status st = ValidateServerConfig(c);
    EXPECT_EQ(st.code(), util::StatusCode::kInvalidArgument) << conninfo;
    EXPECT_NE(st.message().find("verify-full"), std::string::npos) << st.ToString();
  }
  for (const char* conninfo :
       {"host=db.example.org dbname=bt sslmode=verify-full sslrootcert=/etc/bluetrace/db-ca.crt",
        "postgresql://bt@db.example.org/bt?sslmode=verify-full", "host=/run/postgresql dbname=bt",
        "host=127.0.0.1 port=5433", "host=::1", "host=localhost", ""}) {
    c.postgres_conninfo = conninfo;
    EXPECT_TRUE(ValidateServerConfig(c).ok())
        << conninfo << ": " << ValidateServerConfig(c).ToString();
  }
  // The files backend does not look at [postgres].
  c.storage_backend = "files";
  c.postgres_conninfo = "host=db.example.org";
  EXPECT_TRUE(ValidateServerConfig(c).ok());
}

TEST(StorageConfigTest, TheKeysBecomeThePoolOptions) {
  ServerConfig c;
  ASSERT_TRUE(Parse("[postgres]\nconninfo = \"host=/tmp dbname=x\"\npool_size = 7\n"
                    "acquire_timeout_ms = 300\nstatement_timeout_ms = 900\nconnect_timeout = 3\n",
                    c)
                  .ok());
  auto o = PostgresPoolOptions(c, store::PosixFileSystem::Instance());
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->size, 7u);
  EXPECT_EQ(o->acquire_timeout.count(), 300);
  EXPECT_EQ(o->connection.statement_timeout.count(), 900);
  EXPECT_EQ(o->connection.connect_timeout_seconds, 3);
  EXPECT_EQ(o->connection.conninfo, "host=/tmp dbname=x");
  EXPECT_TRUE(o->connection.password.empty());
  EXPECT_EQ(Parse("[postgres]\npool_size = 0\n", c).code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(Parse("[postgres]\nconnect_timeout = 1\n", c).code(),
            util::StatusCode::kInvalidArgument);
}

class PasswordFileTest : public ::testing::Test {
 protected:
  util::Result<store::PgPoolOptions> WithFile(const std::string& contents, mode_t mode) {
    const std::string path = dir_.File("db-password");
    test::WriteFileForTest(path, contents);
    EXPECT_EQ(chmod(path.c_str(), mode), 0);
    config_.postgres_password_file = path;
    return PostgresPoolOptions(config_, store::PosixFileSystem::Instance());
  }

  test::TempDir dir_;
  ServerConfig config_;
};

TEST_F(PasswordFileTest, TheFirstLineIsThePassword) {
  auto o = WithFile("s3cret pass\nsecond line\n", 0600);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->connection.password, "s3cret pass");
  o = WithFile("crlf\r\n", 0400);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->connection.password, "crlf");
  o = WithFile("no newline", 0600);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->connection.password, "no newline");
}

TEST_F(PasswordFileTest, AFileOthersCanReadIsRefusedWithoutShowingIt) {
  for (mode_t mode : {0644u, 0640u, 0604u}) {
    auto o = WithFile("s3cret\n", mode);
    ASSERT_FALSE(o.ok()) << mode;
    EXPECT_NE(o.status().message().find("postgres.password_file"), std::string::npos);
    EXPECT_NE(o.status().message().find("chmod 600"), std::string::npos);
    EXPECT_EQ(o.status().message().find("s3cret"), std::string::npos);
  }
}

TEST_F(PasswordFileTest, EmptyMissingTooLongOrADirectoryIsRefusedNamingTheKey) {
  EXPECT_EQ(WithFile("\nsecond\n", 0600).status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(WithFile("", 0600).status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_FALSE(WithFile(std::string(kMaxPasswordFileBytes + 1, 'x'), 0600).ok());
  config_.postgres_password_file = dir_.File("missing");
  auto missing = PostgresPoolOptions(config_, store::PosixFileSystem::Instance());
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("postgres.password_file"), std::string::npos);
  config_.postgres_password_file = dir_.path();
  chmod(dir_.path().c_str(), 0700);
  auto directory = PostgresPoolOptions(config_, store::PosixFileSystem::Instance());
  EXPECT_FALSE(directory.ok());
  EXPECT_NE(directory.status().message().find("directory"), std::string::npos)
      << directory.status().ToString();
}

}  // namespace
}  // namespace bluetrace::service
