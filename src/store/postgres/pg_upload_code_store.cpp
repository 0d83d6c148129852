#include "bluetrace/store/postgres/pg_upload_code_store.hpp"

#include <string>

#include "bluetrace/protocol/phone.hpp"

namespace bluetrace::store {

std::unique_ptr<PgUploadCodeStore> PgUploadCodeStore::Open(PgPool& pool) {
  return std::unique_ptr<PgUploadCodeStore>(new PgUploadCodeStore(pool));
}

util::Status PgUploadCodeStore::Put(const UploadCodeRecord& record) {
  if (!IsCodeDigest(record.digest)) return util::InvalidArgument("not a code digest");
  if (!protocol::IsCanonicalPhone(record.phone)) {
    return util::InvalidArgument("not a canonical phone number: " + record.phone);
  }
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  // Expired codes of anyone go with the next issue, so the table stays small.
  BLUETRACE_RETURN_IF_ERROR(conn->Exec("drop expired upload codes",
                                       "DELETE FROM upload_codes WHERE expires_at <= $1::bigint",
                                       {std::to_string(record.issued_at)})
                                .status());
  // One statement, so the code and its day's count are committed together.
  return conn
      ->Exec("issue upload code",
             "WITH code AS (INSERT INTO upload_codes (phone, digest, issued_at, expires_at) "
             "VALUES ($1, $2, $3::bigint, $4::bigint) ON CONFLICT (phone) DO UPDATE SET "
             "digest = EXCLUDED.digest, issued_at = EXCLUDED.issued_at, "
             "expires_at = EXCLUDED.expires_at RETURNING 1) "
             "INSERT INTO upload_codes_issued (day, codes) SELECT $5::bigint, 1 FROM code "
             "ON CONFLICT (day) DO UPDATE SET codes = upload_codes_issued.codes + 1",
             {record.phone, record.digest, std::to_string(record.issued_at),
              std::to_string(record.expires_at), std::to_string(UtcDayStart(record.issued_at))})
      .status();
}

util::Result<RedeemResult> PgUploadCodeStore::Redeem(std::string_view phone,
                                                     std::string_view digest, std::int64_t now) {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(auto res,
                             conn->Exec("redeem upload code",
                                        "DELETE FROM upload_codes WHERE phone = $1 AND digest = $2 "
                                        "RETURNING expires_at",
                                        {std::string(phone), std::string(digest)}));
  if (res.rows() == 0) return RedeemResult::kWrong;
  BLUETRACE_ASSIGN_OR_RETURN(const std::int64_t expires_at, res.GetInt(0, 0));
  return expires_at > now ? RedeemResult::kRedeemed : RedeemResult::kExpired;
}

util::Status PgUploadCodeStore::RemoveUser(std::string_view phone) {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return conn
      ->Exec("forget upload code", "DELETE FROM upload_codes WHERE phone = $1",
             {std::string(phone)})
      .status();
}

util::Result<std::vector<CodesIssuedOnDay>> PgUploadCodeStore::CountIssuedPerDay(
    std::int64_t since) const {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn->Exec("count upload codes per day",
                           "SELECT day, codes FROM upload_codes_issued WHERE day >= $1::bigint "
                           "ORDER BY day",
                           {std::to_string(UtcDayStart(since))}));
  std::vector<CodesIssuedOnDay> out;
  for (int row = 0; row < res.rows(); ++row) {
    BLUETRACE_ASSIGN_OR_RETURN(const std::int64_t day, res.GetInt(row, 0));
    BLUETRACE_ASSIGN_OR_RETURN(const std::int64_t codes, res.GetInt(row, 1));
    out.push_back({day, static_cast<std::uint64_t>(codes)});
  }
  return out;
}

}  // namespace bluetrace::store
