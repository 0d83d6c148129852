// PostgresServer: a throwaway PostgreSQL 15 cluster for the PostgreSQL backend's tests.
//
// The constructor runs initdb into a fresh directory under /tmp and starts the server on a
// Unix socket in that directory only (listen_addresses is empty: no TCP at all); Stop() and
// the destructor stop it (`pg_ctl -m fast`) and remove the directory, so a failing test
// still leaves nothing behind. initdb and postgres refuse to run as root: as root (CI) the
// directory is given to the `postgres` user and the commands run through runuser.
//
// One cluster per test executable is enough (SharedPostgresServerForTest starts it on first
// use); each test takes its own database from CreateFreshDatabase(), or a migrated one with
// its pools from FreshPgDatabase. Not thread-safe: use it from the test's main thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bluetrace/store/postgres/pg_connection.hpp"
#include "bluetrace/store/postgres/pg_pool.hpp"

namespace bluetrace::test {

// A cluster that also listens on TCP with TLS (tests of sslmode=verify-full): on
// `tcp_host`:`tcp_port` with the certificate and key given (copied into the cluster's
// directory), accepting only TLS connections from 127.0.0.0/8 there.
struct PostgresTlsOptions {
  std::string tcp_host;  // a loopback address, e.g. "127.0.0.2"
  int tcp_port = 0;
  std::string certificate_file;  // PEM
  std::string key_file;          // PEM
};

class PostgresServer {
 public:
  // Starts the cluster; ok() tells whether it runs, error() says why not.
  PostgresServer();
  explicit PostgresServer(const PostgresTlsOptions& tls);
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  bool ok() const { return running_; }
  const std::string& error() const { return error_; }
  // The cluster's directory: the data directory, the socket and the log are inside.
  const std::string& dir() const { return dir_; }

  // A libpq connection string for `dbname` as the superuser `bt` over the Unix socket.
  std::string ConnectionString(const std::string& dbname) const;
  // CREATE DATABASE `name` (letters, digits and '_' only). Fails the calling test and
  // returns false when it cannot.
  bool CreateDatabase(const std::string& name);
  // Creates a database "t_<n>" not used before in this process and returns its name
  // (empty, with a test failure, when it cannot).
  std::string CreateFreshDatabase();

  // Stops the server and removes the directory; idempotent.
  void Stop();

 private:
  // Runs a command as the cluster's owner; returns its output, or sets error_.
  bool Run(const std::string& what, const std::string& command);

  std::string dir_;
  std::string error_;
  bool running_ = false;
  int next_database_ = 0;
  int port_ = 5432;  // of the Unix socket too
};

// The cluster of this test executable, started on first use and stopped at exit.
PostgresServer& SharedPostgresServerForTest();

// A fresh database of the shared cluster with the schema of packaging/sql applied, for one
// test: a connection for the test's own queries, and a pool per server instance the test
// plays. Owns the pools: the stores opened on them must be gone before it.
class FreshPgDatabase {
 public:
  // nullptr, with a test failure saying why, when the cluster, the database, the
  // connection or the migrations fail. With `migrate` false the database is left empty
  // (no schema), for tests of what meets an unmigrated database.
  static std::unique_ptr<FreshPgDatabase> Create(bool migrate = true);

  FreshPgDatabase(const FreshPgDatabase&) = delete;
  FreshPgDatabase& operator=(const FreshPgDatabase&) = delete;

  // "t_<n>": letters, digits and '_' only.
  const std::string& name() const { return name_; }
  const std::string& conninfo() const { return conninfo_; }
  // The test's own connection; CloseConnection() ends it (e.g. before DROP DATABASE).
  store::PgConnection& conn() { return *conn_; }
  void CloseConnection() { conn_.reset(); }

  // A new pool on the database (another server instance), owned by this object; nullptr
  // with a test failure when it cannot be opened.
  store::PgPool* NewPool();

 private:
  FreshPgDatabase() = default;

  std::string name_;
  std::string conninfo_;
  std::unique_ptr<store::PgConnection> conn_;
  std::vector<std::unique_ptr<store::PgPool>> pools_;
};

}  // namespace bluetrace::test
