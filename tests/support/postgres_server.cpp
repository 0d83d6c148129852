#include "support/postgres_server.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/postgres/migrations.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::test {
namespace {

constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";

bool IsPlainName(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

PostgresServer::PostgresServer() : PostgresServer(PostgresTlsOptions{}) {}

PostgresServer::PostgresServer(const PostgresTlsOptions& tls) {
  // Under /tmp, whatever TMPDIR says: the socket path must stay short (107 bytes) and the
  // postgres user must be able to reach the directory.
  std::string templ = "/tmp/bt-pg-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = templ;
  if (geteuid() == 0) {
    const CommandResult chown = RunCommandForTest("chown postgres: " + ShellQuoteForTest(dir_));
    if (chown.exit_code != 0) {
      error_ = "chown postgres: " + chown.output;
      return;
    }
  }
  const std::string data = ShellQuoteForTest(dir_ + "/data");
  if (!Run("initdb", std::string(kBinDir) + "/initdb -D " + data +
                         " -A trust -U bt --no-sync --no-locale -E UTF8")) {
    return;
  }
  // fsync off: a throwaway cluster never has to survive a crash.
  std::string options = "-k " + dir_ + " -c fsync=off";
  if (tls.tcp_host.empty()) {
    options += " -c listen_addresses=''";
  } else {
    // The server's certificate and key, readable by the cluster's owner only; TLS-only
    // access from loopback over TCP.
    const std::string copy =
        "cp " + ShellQuoteForTest(tls.certificate_file) + " " +
        ShellQuoteForTest(dir_ + "/server.crt") + " && cp " + ShellQuoteForTest(tls.key_file) +
        " " + ShellQuoteForTest(dir_ + "/server.key") + " && chmod 600 " +
        ShellQuoteForTest(dir_ + "/server.key") +
        (geteuid() == 0 ? " && chown postgres: " + ShellQuoteForTest(dir_ + "/server.crt") + " " +
                              ShellQuoteForTest(dir_ + "/server.key")
                        : "") +
        " && echo 'hostssl all all 127.0.0.0/8 trust' >> " +
        ShellQuoteForTest(dir_ + "/data/pg_hba.conf");
    const CommandResult copied = RunCommandForTest(copy);
    if (copied.exit_code != 0) {
      error_ = "setting up TLS: " + copied.output;
      return;
    }
    port_ = tls.tcp_port;
    options += " -c listen_addresses=" + tls.tcp_host + " -p " + std::to_string(tls.tcp_port) +
               " -c ssl=on -c ssl_cert_file=" + dir_ + "/server.crt -c ssl_key_file=" + dir_ +
               "/server.key";
  }
  if (!Run("pg_ctl start", std::string(kBinDir) + "/pg_ctl -D " + data + " -o " +
                               ShellQuoteForTest(options) + " -l " +
                               ShellQuoteForTest(dir_ + "/log") + " -w start")) {
    return;
  }
  running_ = true;
}

PostgresServer::~PostgresServer() { Stop(); }

bool PostgresServer::Run(const std::string& what, const std::string& command) {
  // The commands run from the cluster's directory: the postgres user may not be able to
  // enter the test's working directory.
  std::string line = "cd " + ShellQuoteForTest(dir_) + " && ";
  if (geteuid() == 0) line += "runuser -u postgres -- ";
  const CommandResult r = RunCommandForTest(line + command);
  if (r.exit_code == 0) return true;
  error_ = what + " failed (exit " + std::to_string(r.exit_code) + "): " + r.output;
  return false;
}

void PostgresServer::Stop() {
  if (running_) {
    running_ = false;
    if (!Run("pg_ctl stop", std::string(kBinDir) + "/pg_ctl -D " +
                                ShellQuoteForTest(dir_ + "/data") + " -m fast -w stop")) {
      ADD_FAILURE() << error_;
    }
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

std::string PostgresServer::ConnectionString(const std::string& dbname) const {
  return "host=" + dir_ + " port=" + std::to_string(port_) + " user=bt dbname=" + dbname +
         " connect_timeout=10";
}

bool PostgresServer::CreateDatabase(const std::string& name) {
  if (!running_) {
    ADD_FAILURE() << "PostgreSQL is not running: " << error_;
    return false;
  }
  if (!IsPlainName(name)) {
    ADD_FAILURE() << "not a plain database name: " << name;
    return false;
  }
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(
      PQconnectdb(ConnectionString("postgres").c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    ADD_FAILURE() << "connecting to PostgreSQL: " << PQerrorMessage(conn.get());
    return false;
  }
  // CREATE DATABASE takes no parameters; the name was checked above.
  std::unique_ptr<PGresult, decltype(&PQclear)> res(
      PQexec(conn.get(), ("CREATE DATABASE " + name).c_str()), &PQclear);
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    ADD_FAILURE() << "CREATE DATABASE " << name << ": " << PQerrorMessage(conn.get());
    return false;
  }
  return true;
}

std::string PostgresServer::CreateFreshDatabase() {
  const std::string name = "t_" + std::to_string(next_database_++);
  return CreateDatabase(name) ? name : std::string();
}

PostgresServer& SharedPostgresServerForTest() {
  static PostgresServer server;
  return server;
}

std::unique_ptr<FreshPgDatabase> FreshPgDatabase::Create(bool migrate) {
  PostgresServer& server = SharedPostgresServerForTest();
  if (!server.ok()) {
    ADD_FAILURE() << "PostgreSQL: " << server.error();
    return nullptr;
  }
  std::unique_ptr<FreshPgDatabase> db(new FreshPgDatabase());
  db->name_ = server.CreateFreshDatabase();
  if (db->name_.empty()) return nullptr;
  db->conninfo_ = server.ConnectionString(db->name_);
  auto conn = store::PgConnection::Open({.conninfo = db->conninfo_});
  if (!conn.ok()) {
    ADD_FAILURE() << conn.status().ToString();
    return nullptr;
  }
  db->conn_ = std::move(conn).value();
  if (!migrate) return db;
  auto version = store::ApplyMigrations(*db->conn_, store::PosixFileSystem::Instance(),
                                        SourcePath("packaging/sql"));
  if (!version.ok()) {
    ADD_FAILURE() << version.status().ToString();
    return nullptr;
  }
  return db;
}

store::PgPool* FreshPgDatabase::NewPool() {
  store::PgPoolOptions options;
  options.connection.conninfo = conninfo_;
  auto pool = store::PgPool::Open(options);
  if (!pool.ok()) {
    ADD_FAILURE() << pool.status().ToString();
    return nullptr;
  }
  pools_.push_back(std::move(pool).value());
  return pools_.back().get();
}

}  // namespace bluetrace::test
