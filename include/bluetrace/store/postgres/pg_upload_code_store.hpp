// PgUploadCodeStore: the UploadCodeStore on PostgreSQL's `upload_codes` table
// (packaging/sql/004_upload_codes.sql) and the per-day counts of `upload_codes_issued`
// (006_upload_codes_issued.sql), shared by every server instance on the database. Put is
// one statement (the code's upsert and its day's count together); Redeem is one DELETE ...
// RETURNING on the phone and digest, so the row's lock decides which of two racing
// instances gets the code. Thread-safe; the pool must outlive the store.
#pragma once

#include <memory>

#include "bluetrace/store/postgres/pg_pool.hpp"
#include "bluetrace/store/upload_code_store.hpp"

namespace bluetrace::store {

class PgUploadCodeStore final : public UploadCodeStore {
 public:
  // Does not touch the database.
  static std::unique_ptr<PgUploadCodeStore> Open(PgPool& pool);

  PgUploadCodeStore(const PgUploadCodeStore&) = delete;
  PgUploadCodeStore& operator=(const PgUploadCodeStore&) = delete;

  // Errors: the database's (see pg_connection.hpp).
  util::Status Put(const UploadCodeRecord& record) override;
  util::Result<RedeemResult> Redeem(std::string_view phone, std::string_view digest,
                                    std::int64_t now) override;
  util::Status RemoveUser(std::string_view phone) override;
  util::Result<std::vector<CodesIssuedOnDay>> CountIssuedPerDay(std::int64_t since) const override;

 private:
  explicit PgUploadCodeStore(PgPool& pool) : pool_(pool) {}

  PgPool& pool_;
};

}  // namespace bluetrace::store
