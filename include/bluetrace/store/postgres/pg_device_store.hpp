// PgDeviceStore: the DeviceStore on PostgreSQL's `devices` table
// (packaging/sql/001_initial.sql), shared by every server instance on the database.
//
// Only the SHA-256 of each token is stored; a device's id is the first 16 hex digits of
// it. Issue inserts the new token and deletes that user's tokens beyond the newest
// kMaxDevicesPerUser in one transaction, under a per-user advisory lock, so concurrent
// issues for one user (on any instance) never leave more; it is committed before the
// token is returned. Find reads the database, so tokens issued by other instances are
// valid at once.
//
// Thread-safe. The pool and the clock must outlive the store.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bluetrace/store/device_store.hpp"
#include "bluetrace/store/postgres/pg_pool.hpp"
#include "bluetrace/util/clock.hpp"

namespace bluetrace::store {

class PgDeviceStore final : public DeviceStore {
 public:
  // Does not touch the database.
  static std::unique_ptr<PgDeviceStore> Open(PgPool& pool, const util::Clock& clock);

  PgDeviceStore(const PgDeviceStore&) = delete;
  PgDeviceStore& operator=(const PgDeviceStore&) = delete;

  // Nullopt also when the database fails (no error channel): the login then goes on
  // without the device's protection, as with a token never issued.
  std::optional<std::string> Find(std::string_view user, std::string_view token) const override;
  // Errors: kInvalidArgument for a user name the file backend could not hold either
  // (empty, over 256 bytes, spaces or control characters); the generator's; the database's.
  Result<std::string> Issue(std::string_view user, util::Random& random) override;
  // SELECT count(*); 0 when the database fails.
  std::size_t size() const override;

 private:
  PgDeviceStore(PgPool& pool, const util::Clock& clock) : pool_(pool), clock_(clock) {}

  PgPool& pool_;
  const util::Clock& clock_;
};

}  // namespace bluetrace::store
