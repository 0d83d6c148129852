#include "bluetrace/store/postgres/pg_device_store.hpp"

#include <utility>

namespace bluetrace::store {
namespace {

// The advisory lock class of device issues ("btdv" in ASCII); the user's hash is the key.
constexpr const char* kDeviceLockClass = "1651795062";  // 0x62746476

// Deletes the user's tokens beyond the newest kMaxDevicesPerUser ($2).
constexpr const char* kRetireOldest = R"sql(
DELETE FROM devices WHERE phone = $1 AND seq NOT IN (
  SELECT seq FROM devices WHERE phone = $1 ORDER BY issued_at DESC, seq DESC LIMIT $2::bigint)
)sql";

}  // namespace

std::unique_ptr<PgDeviceStore> PgDeviceStore::Open(PgPool& pool, const util::Clock& clock) {
  return std::unique_ptr<PgDeviceStore>(new PgDeviceStore(pool, clock));
}

std::optional<std::string> PgDeviceStore::Find(std::string_view user,
                                               std::string_view token) const {
  const std::optional<std::string> hash = DigestOfDeviceToken(token);
  if (!hash || !IsDeviceUser(user)) return std::nullopt;
  std::string id = hash->substr(0, kIdHexDigits);
  auto conn = pool_.Acquire();
  if (!conn.ok()) return std::nullopt;
  auto res = (*conn)->Exec("find device",
                           "SELECT 1 FROM devices WHERE phone = $1 AND device_id = $2 "
                           "AND token_digest = decode($3, 'hex')",
                           {std::string(user), id, *hash});
  if (!res.ok() || res->rows() == 0) return std::nullopt;
  return id;
}

Result<std::string> PgDeviceStore::Issue(std::string_view user, util::Random& random) {
  if (!IsDeviceUser(user)) return util::InvalidArgument("not a user name");
  BLUETRACE_ASSIGN_OR_RETURN(DeviceToken token, NewDeviceToken(random));
  const std::string phone(user);
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  // On an error below the connection is left in the transaction: the pool closes it,
  // which rolls the transaction back.
  BLUETRACE_RETURN_IF_ERROR(conn->ExecScript("begin device issue", "BEGIN"));
  BLUETRACE_RETURN_IF_ERROR(conn->Exec("lock user's devices",
                                       "SELECT pg_advisory_xact_lock(" +
                                           std::string(kDeviceLockClass) + ", hashtext($1))",
                                       {phone})
                                .status());
  BLUETRACE_RETURN_IF_ERROR(
      conn->Exec("issue device",
                 "INSERT INTO devices (phone, device_id, token_digest, issued_at) "
                 "VALUES ($1, $2, decode($3, 'hex'), $4::bigint)",
                 {phone, token.id(), token.digest, std::to_string(clock_.NowUnixSeconds())})
          .status());
  BLUETRACE_RETURN_IF_ERROR(conn->Exec("retire oldest devices", kRetireOldest,
                                       {phone, std::to_string(kMaxDevicesPerUser)})
                                .status());
  BLUETRACE_RETURN_IF_ERROR(conn->ExecScript("commit device issue", "COMMIT"));
  return std::move(token.token);
}

std::size_t PgDeviceStore::size() const {
  return CountOrZero(pool_, "count devices", "SELECT count(*) FROM devices");
}

}  // namespace bluetrace::store
