// PgUploadCodeStore: the UploadCodeStore on PostgreSQL's `upload_codes` table
// (packaging/sql/003_upload_codes.sql), shared by every server instance on the database.
// Put is one upsert; Redeem is one DELETE ... RETURNING on the phone and digest, so the
// row's lock decides which of two racing instances gets the code. Thread-safe; the pool
// must outlive the store.
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

 private:
  explicit PgUploadCodeStore(PgPool& pool) : pool_(pool) {}

  PgPool& pool_;
};

}  // namespace bluetrace::store
