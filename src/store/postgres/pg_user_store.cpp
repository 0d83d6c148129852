#include "bluetrace/store/postgres/pg_user_store.hpp"

#include <optional>
#include <utility>

#include "bluetrace/protocol/phone.hpp"

namespace bluetrace::store {

Result<std::unique_ptr<PgUserStore>> PgUserStore::Open(PgPool& pool, Argon2Params params,
                                                       util::Random& random) {
  BLUETRACE_RETURN_IF_ERROR(ValidateArgon2Params(params));
  std::unique_ptr<PgUserStore> store(new PgUserStore(pool, params, random));
  BLUETRACE_ASSIGN_OR_RETURN(store->dummy_hash_, MakeDummyHash(params, random));
  return store;
}

Result<std::optional<std::string>> PgUserStore::SecretOf(const std::string& canonical) const {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn->Exec("read user", "SELECT secret FROM users WHERE phone = $1", {canonical}));
  if (res.rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(std::string(res.Get(0, 0)));
}

Result<VerifyResult> PgUserStore::Verify(std::string_view user, std::string_view password,
                                         Status* upgrade_status) {
  if (upgrade_status != nullptr) *upgrade_status = Status::Ok();
  auto canonical = protocol::CanonicalPhone(user);
  std::optional<std::string> stored;
  if (canonical.ok()) {
    // The connection goes back to the pool before Argon2 runs.
    BLUETRACE_ASSIGN_OR_RETURN(stored, SecretOf(*canonical));
  }
  if (!stored) {
    BLUETRACE_RETURN_IF_ERROR(VerifyPassword(dummy_hash_, password).status());
    return VerifyResult::kUnknownUser;
  }
  auto match = VerifyPassword(*stored, password);
  if (!match.ok()) return match.status().WithContext("credentials of " + *canonical);
  return *match ? VerifyResult::kOk : VerifyResult::kWrongPassword;
}

Status PgUserStore::AddUser(std::string_view user, std::string_view password) {
  BLUETRACE_ASSIGN_OR_RETURN(auto canonical, protocol::CanonicalPhone(user));
  BLUETRACE_ASSIGN_OR_RETURN(auto hash, HashPassword(password, params_, random_));
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(auto res,
                             conn->Exec("add user",
                                        "INSERT INTO users (phone, secret) VALUES ($1, $2) "
                                        "ON CONFLICT (phone) DO NOTHING",
                                        {canonical, std::move(hash)}));
  if (res.affected_rows() == 0) return util::AlreadyExists("user " + canonical + " exists");
  return Status::Ok();
}

Status PgUserStore::SetPassword(std::string_view user, std::string_view password) {
  BLUETRACE_ASSIGN_OR_RETURN(auto canonical, protocol::CanonicalPhone(user));
  BLUETRACE_ASSIGN_OR_RETURN(auto hash, HashPassword(password, params_, random_));
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn->Exec("set password", "UPDATE users SET secret = $2 WHERE phone = $1",
                           {canonical, std::move(hash)}));
  if (res.affected_rows() == 0) return util::NotFound("no user " + canonical);
  return Status::Ok();
}

Status PgUserStore::RemoveUser(std::string_view user) {
  BLUETRACE_ASSIGN_OR_RETURN(auto canonical, protocol::CanonicalPhone(user));
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn->Exec("remove user", "DELETE FROM users WHERE phone = $1", {canonical}));
  if (res.affected_rows() == 0) return util::NotFound("no user " + canonical);
  return Status::Ok();
}

bool PgUserStore::Contains(std::string_view user) const {
  auto canonical = protocol::CanonicalPhone(user);
  if (!canonical.ok()) return false;
  auto secret = SecretOf(*canonical);
  return secret.ok() && secret->has_value();
}

std::size_t PgUserStore::size() const {
  return CountOrZero(pool_, "count users", "SELECT count(*) FROM users");
}

}  // namespace bluetrace::store
