// PgReportStore: the ReportStore on PostgreSQL's `reports` table
// (packaging/sql/001_initial.sql), shared by every server instance on the database.
//
// Write tries the names ReportName(uploader, received_at, n) for n = 1, 2, ... with INSERT
// ... ON CONFLICT DO NOTHING until one is free: the primary key on the name makes names
// unique across instances writing in the same second. Each report is one autocommitted
// statement, durable (and whole) when Write returns. A report's text is a `text` value:
// one with a NUL byte, or invalid in the database's encoding, is refused
// (kInvalidArgument); contact logs are ASCII.
//
// Thread-safe. The pool must outlive the store.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/store/postgres/pg_pool.hpp"
#include "bluetrace/store/report_store.hpp"

namespace bluetrace::store {

class PgReportStore final : public ReportStore {
 public:
  // Reports of one uploader within one second, at most (kResourceExhausted beyond).
  static constexpr std::uint64_t kMaxPerSecond = 1000;

  // Does not touch the database.
  static std::unique_ptr<PgReportStore> Open(PgPool& pool);

  PgReportStore(const PgReportStore&) = delete;
  PgReportStore& operator=(const PgReportStore&) = delete;

  // Errors: kResourceExhausted when kMaxPerSecond names are taken; the database's.
  Result<std::string> Write(std::string_view uploader, std::int64_t received_at,
                            std::string_view text) override;
  // Ordered by name (byte order), as the file backend lists them: oldest first.
  Result<std::vector<std::string>> List() const override;
  // kInvalidArgument for a name that is not a report's (checked before any query),
  // kNotFound for one that does not exist, the database's errors.
  Result<std::string> Read(std::string_view name) const override;
  // One count over the uploader's rows (reports_received_at narrows it to the window).
  Result<std::uint64_t> CountSince(std::string_view uploader, std::int64_t since) const override;
  Result<std::uint64_t> PruneBefore(std::int64_t cutoff) override;

 private:
  explicit PgReportStore(PgPool& pool) : pool_(pool) {}

  PgPool& pool_;
};

}  // namespace bluetrace::store
