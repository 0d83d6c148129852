// PgPool: a fixed-size pool of PgConnections to one database, shared by every PostgreSQL
// store of a server instance.
//
// Size. At most `size` connections are open at once (default 4: about one per core of a
// small server; PostgreSQL's default max_connections of 100 then serves ~20 instances with
// room for bluetrace-admin and the operator). Connections are opened on demand and kept;
// one found broken when it is handed back is closed, and a new one is opened next time.
// Taking a connection waits at most `acquire_timeout` for one to be free, then fails with
// kUnavailable, so a stuck database turns into refused logins instead of piled-up threads.
//
// Thread-safe. The pool must outlive every Lease; a Lease is used by one thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/store/postgres/pg_connection.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::store {

struct PgPoolOptions {
  PgOptions connection;
  std::size_t size = 4;                             // connections at most, 1 to 64
  std::chrono::milliseconds acquire_timeout{2000};  // wait for a free connection, > 0
};

class PgPool {
 public:
  // A connection taken from the pool; hands it back when destroyed. Move-only.
  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<PgConnection> conn) : pool_(pool), conn_(std::move(conn)) {}
    ~Lease();
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    PgConnection& operator*() const { return *conn_; }
    PgConnection* operator->() const { return conn_.get(); }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  // Checks the options and opens a first connection, so a wrong address or login is
  // reported at start-up. Errors: kInvalidArgument for bad options, PgConnection::Open's.
  static Result<std::unique_ptr<PgPool>> Open(const PgPoolOptions& options);
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // A free connection, or a new one while fewer than `size` are open. kUnavailable when
  // none is free within acquire_timeout; PgConnection::Open's errors.
  Result<Lease> Acquire();

  // Connections open now (free or leased).
  std::size_t open_connections() const;

 private:
  explicit PgPool(const PgPoolOptions& options) : options_(options) {}
  void Return(std::unique_ptr<PgConnection> conn);

  const PgPoolOptions options_;
  mutable util::Mutex mu_;
  std::condition_variable_any cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_ GUARDED_BY(mu_);
  std::size_t open_ GUARDED_BY(mu_) = 0;  // idle + leased + being opened
};

// The single number `count_sql` (a SELECT count(*)) gives, for a store's size(), which has no
// error channel: 0 when the pool, the database or the result fails. `what` names the query
// in errors, as PgConnection::Exec's does.
std::size_t CountOrZero(PgPool& pool, std::string_view what, const std::string& count_sql);

}  // namespace bluetrace::store
