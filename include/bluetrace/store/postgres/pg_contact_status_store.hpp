// PgContactStatusStore: the ContactStatusStore of the PostgreSQL backend
// (contact_status_store.hpp) on the table contact_status (packaging/sql/003_console.sql).
// Thread-safe (the pool is).
#pragma once

#include <memory>

#include "bluetrace/store/contact_status_store.hpp"
#include "bluetrace/store/postgres/pg_pool.hpp"

namespace bluetrace::store {

class PgContactStatusStore final : public ContactStatusStore {
 public:
  static std::unique_ptr<PgContactStatusStore> Open(PgPool& pool) {
    return std::unique_ptr<PgContactStatusStore>(new PgContactStatusStore(pool));
  }

  util::Status Set(const ContactStatusRecord& record) override;
  util::Result<std::vector<ContactStatusRecord>> List() override;

 private:
  explicit PgContactStatusStore(PgPool& pool) : pool_(pool) {}
  PgPool& pool_;
};

}  // namespace bluetrace::store
