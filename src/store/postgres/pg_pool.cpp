#include "bluetrace/store/postgres/pg_pool.hpp"

#include <utility>

namespace bluetrace::store {

PgPool::Lease::~Lease() {
  if (conn_ != nullptr) pool_->Return(std::move(conn_));
}

Result<std::unique_ptr<PgPool>> PgPool::Open(const PgPoolOptions& options) {
  BLUETRACE_RETURN_IF_ERROR(ValidatePgOptions(options.connection));
  if (options.size < 1 || options.size > 64) {
    return util::InvalidArgument("PostgreSQL pool size must be 1 to 64");
  }
  if (options.acquire_timeout.count() <= 0) {
    return util::InvalidArgument("PostgreSQL pool acquire timeout must be positive");
  }
  std::unique_ptr<PgPool> pool(new PgPool(options));
  BLUETRACE_ASSIGN_OR_RETURN(auto first, pool->Acquire());
  return pool;
}

Result<PgPool::Lease> PgPool::Acquire() {
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  {
    util::MutexLock l(mu_);
    while (idle_.empty() && open_ >= options_.size) {
      if (cv_.wait_until(mu_, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= options_.size) {
        return util::Unavailable("no free PostgreSQL connection within " +
                                 std::to_string(options_.acquire_timeout.count()) + " ms (" +
                                 std::to_string(options_.size) + " in use)");
      }
    }
    if (!idle_.empty()) {
      std::unique_ptr<PgConnection> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    ++open_;  // reserve the slot; connect without the lock
  }
  auto conn = PgConnection::Open(options_.connection);
  if (!conn.ok()) {
    util::MutexLock l(mu_);
    --open_;
    cv_.notify_one();
    return conn.status();
  }
  return Lease(this, std::move(conn).value());
}

void PgPool::Return(std::unique_ptr<PgConnection> conn) {
  const bool keep = conn->healthy();
  if (!keep) conn.reset();  // closed before taking the lock
  util::MutexLock l(mu_);
  if (keep) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  cv_.notify_one();
}

std::size_t PgPool::open_connections() const {
  util::MutexLock l(mu_);
  return open_;
}

std::size_t CountOrZero(PgPool& pool, std::string_view what, const std::string& count_sql) {
  auto conn = pool.Acquire();
  if (!conn.ok()) return 0;
  auto res = (*conn)->Exec(what, count_sql);
  if (!res.ok()) return 0;
  auto n = res->GetInt(0, 0);
  return n.ok() ? static_cast<std::size_t>(*n) : 0;
}

}  // namespace bluetrace::store
