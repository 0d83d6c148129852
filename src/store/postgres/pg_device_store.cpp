#include "bluetrace/store/postgres/pg_device_store.hpp"

#include <algorithm>
#include <cstdint>

#include "bluetrace/util/digest.hpp"

namespace bluetrace::store {
namespace {

constexpr std::size_t kIdHex = 16;

// The advisory lock class of device issues ("btdv" in ASCII); the user's hash is the key.
constexpr const char* kDeviceLockClass = "1651795062";  // 0x62746476

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// What FileDeviceStore accepts as a user, so both backends hold the same names.
bool IsUserField(std::string_view s) {
  return !s.empty() && s.size() <= 256 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

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
  if (token.size() != 2 * kTokenBytes || !IsLowerHex(token) || !IsUserField(user)) {
    return std::nullopt;
  }
  const std::string hash = util::Sha256Hex(token);
  std::string id = hash.substr(0, kIdHex);
  auto conn = pool_.Acquire();
  if (!conn.ok()) return std::nullopt;
  auto res = (*conn)->Exec("find device",
                           "SELECT 1 FROM devices WHERE phone = $1 AND device_id = $2 "
                           "AND token_digest = decode($3, 'hex')",
                           {std::string(user), id, hash});
  if (!res.ok() || res->rows() == 0) return std::nullopt;
  return id;
}

Result<std::string> PgDeviceStore::Issue(std::string_view user, util::Random& random) {
  if (!IsUserField(user)) return util::InvalidArgument("not a user name");
  std::uint8_t bytes[kTokenBytes];
  BLUETRACE_RETURN_IF_ERROR(random.Fill(bytes));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (std::uint8_t b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 0xf];
  }
  const std::string hash = util::Sha256Hex(token);
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
                 {phone, hash.substr(0, kIdHex), hash, std::to_string(clock_.NowUnixSeconds())})
          .status());
  BLUETRACE_RETURN_IF_ERROR(conn->Exec("retire oldest devices", kRetireOldest,
                                       {phone, std::to_string(kMaxDevicesPerUser)})
                                .status());
  BLUETRACE_RETURN_IF_ERROR(conn->ExecScript("commit device issue", "COMMIT"));
  return token;
}

std::size_t PgDeviceStore::size() const {
  auto conn = pool_.Acquire();
  if (!conn.ok()) return 0;
  auto res = (*conn)->Exec("count devices", "SELECT count(*) FROM devices");
  if (!res.ok()) return 0;
  auto n = res->GetInt(0, 0);
  return n.ok() ? static_cast<std::size_t>(*n) : 0;
}

}  // namespace bluetrace::store
