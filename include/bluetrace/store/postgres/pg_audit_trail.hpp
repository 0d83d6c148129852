// PgAuditTrail: the AuditTrail on PostgreSQL's `audit` table (packaging/sql/001_initial.sql),
// one hash chain for every writer on the database (the server's instances, bluetrace-admin).
//
// A record is the file backend's (files/audit_log.hpp): the same "<event> <key>=<value>..."
// text (AuditLog::FormatEventText, values percent-encoded) and the same hash,
// hex SHA-256(prev hash + " " + "<seq> <time> <event> [fields]"), with 64 zeros before the
// first record; a row keeps seq, time, event, the encoded fields and both hashes, so the
// chain can be checked, or exported as audit.log lines, from the rows alone. Record holds
// a transaction-scoped advisory lock while it reads the last record and inserts the next,
// so writers on any instance line up into one chain; it commits before returning.
// Prune calls bluetrace_prune_audit() (packaging/sql/007_audit_retention.sql), which
// deletes the oldest rows and inserts the anchor in one statement under the same lock; the
// chain is then checked from its lowest seq (an anchor, audit_log.hpp's rule).
//
// healthy() is false after a Record failed for any reason but a bad record, until a later
// Record succeeds or a cheap read of the chain's tail does (tried by healthy() at most
// once every kRetryInterval seconds of the injected clock, so a /readyz probe against a
// database that is away does not wait on a connection each time).
//
// Thread-safe. The pool and the clock must outlive the trail.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "bluetrace/store/audit_trail.hpp"
#include "bluetrace/store/postgres/pg_pool.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::store {

class PgAuditTrail final : public AuditTrail {
 public:
  static constexpr std::int64_t kRetryInterval = 5;  // seconds

  // Does not touch the database.
  static std::unique_ptr<PgAuditTrail> Open(PgPool& pool, const util::Clock& clock);

  PgAuditTrail(const PgAuditTrail&) = delete;
  PgAuditTrail& operator=(const PgAuditTrail&) = delete;

  // Appends one committed record. Errors: kInvalidArgument for a bad event or key name or
  // a record too long (AuditLog::FormatEventText); the database's (kUnavailable when it is
  // away or busy).
  Status Record(std::string_view event, const AuditFields& fields) override EXCLUDES(mu_);
  bool healthy() override EXCLUDES(mu_);
  // Errors: kInvalidArgument for a bad field; the database's (a cutoff less than a day
  // before the database's clock is refused there).
  Result<AuditPruneResult> Prune(std::int64_t cutoff_unix, const AuditFields& fields) override;

 private:
  PgAuditTrail(PgPool& pool, const util::Clock& clock) : pool_(pool), clock_(clock) {}

  // Reads the tail and inserts the next record in one transaction.
  Status Append(const std::string& text);

  PgPool& pool_;
  const util::Clock& clock_;
  util::Mutex mu_;
  bool healthy_ GUARDED_BY(mu_) = true;
  std::int64_t next_probe_ GUARDED_BY(mu_) = 0;  // unix seconds
};

}  // namespace bluetrace::store
