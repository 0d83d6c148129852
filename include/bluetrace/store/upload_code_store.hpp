// UploadCodeStore: the upload codes the health authority issues, at most one live code per
// phone number, kept only as a keyed digest (service/upload_code.hpp makes the digest; the
// store never sees a code). Implemented by files/file_upload_code_store.hpp
// (upload-codes.txt) and postgres/pg_upload_code_store.hpp; the contract is proven for every
// backend by tests/store/contract/upload_code_store_contract.cpp.
//
// Contract. Put and Redeem are atomic and durable when they return OK, also across handles
// (several server instances, bluetrace-admin): of two handles redeeming one code at once,
// exactly one gets kRedeemed. A code is single-use: Redeem removes it whatever it answers
// for a matching digest. Put also counts the code for its UTC day, atomically with storing
// it; the counts (no phone number, no digest) outlive the codes, for the console's activity
// chart. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/util/status.hpp"

namespace bluetrace::store {

struct UploadCodeRecord {
  std::string phone;            // canonical
  std::string digest;           // 64 lower-case hex digits (HMAC-SHA256 of phone and code)
  std::int64_t issued_at = 0;   // unix seconds
  std::int64_t expires_at = 0;  // unix seconds; the code is refused from this second on
};

// How many codes were issued on one UTC day.
struct CodesIssuedOnDay {
  std::int64_t day = 0;  // unix seconds of the day's start (00:00 UTC), a multiple of 86400
  std::uint64_t codes = 0;
};

inline constexpr std::int64_t kSecondsPerDay = 86400;

enum class RedeemResult {
  kRedeemed,  // the phone's live code had this digest; it is gone now
  kExpired,   // it had this digest but expired; it is gone now
  kWrong,     // no code for this phone, or another digest (the code stays)
};

class UploadCodeStore {
 public:
  virtual ~UploadCodeStore() = default;

  // Stores `record` as the phone's one code, replacing any earlier one (issuing a new
  // code withdraws the old). kInvalidArgument for a digest that is not 64 hex digits.
  virtual util::Status Put(const UploadCodeRecord& record) = 0;
  // Redeems the code of `phone` whose digest is `digest` at time `now`.
  virtual util::Result<RedeemResult> Redeem(std::string_view phone, std::string_view digest,
                                            std::int64_t now) = 0;
  // Forgets the code of `phone`, if any (withdrawal of consent). The day's count stays.
  virtual util::Status RemoveUser(std::string_view phone) = 0;
  // The codes issued (Put) per UTC day from the day of `since` on, oldest first; days
  // without a code are left out. Redeemed, expired, replaced and removed codes still count.
  virtual util::Result<std::vector<CodesIssuedOnDay>> CountIssuedPerDay(
      std::int64_t since) const = 0;
};

// The start (00:00 UTC) of the day of unix time `t`, also for times before 1970.
std::int64_t UtcDayStart(std::int64_t t);

// True for 64 lower-case hex digits.
bool IsCodeDigest(std::string_view digest);

}  // namespace bluetrace::store
