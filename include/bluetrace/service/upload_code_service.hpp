// UploadCodeService: the health authority's upload codes as use cases. Issue() is what
// staff call (bluetrace-admin code issue, later the web console): a fresh code for one
// phone number, returned once and stored only as its keyed digest. Redeem() is what an
// upload calls: it checks the per-address and per-user blocks, redeems the code
// atomically and counts a wrong one (docs/SECURITY.md, "Upload codes"). Both write the
// audit trail (never the code) and fail closed when it cannot be written.
//
// Blocking (store I/O): call from a worker thread. Thread-safe; every dependency must
// outlive the service.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bluetrace/service/rate_limiter.hpp"
#include "bluetrace/store/audit_trail.hpp"
#include "bluetrace/store/lockout_store.hpp"
#include "bluetrace/store/upload_code_store.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"
#include "bluetrace/util/secret.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::service {

struct UploadCodeDeps {
  store::UploadCodeStore& codes;
  store::LockoutStore& failures;  // wrong codes per user, under the upload-code policy
  store::AuditTrail& audit;
  util::Clock& clock;
  util::Random& random;
  KeyedRateLimiter* address_limiter;  // wrong codes per source address; may be null
};

struct IssuedCode {
  util::SecretString code;  // normalized; show it once (FormatUploadCode), never log it
  std::string phone;        // canonical
  std::int64_t expires_at = 0;
};

enum class RedeemStatus {
  kRedeemed,
  kWrong,    // wrong, used, expired or another user's code; `attempts_left` before a block
  kBlocked,  // too many wrong codes for this user or from this address; `retry_seconds`
  kError,    // a store or the audit trail failed; `error` says how (for the log)
};

struct RedeemOutcome {
  RedeemStatus status = RedeemStatus::kError;
  std::uint32_t attempts_left = 0;
  std::int64_t retry_seconds = 0;
  util::Status error;
};

class UploadCodeService {
 public:
  // `key`: the HMAC key (LoadUploadCodeKey); `lifetime_seconds` > 0.
  UploadCodeService(UploadCodeDeps deps, util::SecretString key, std::int64_t lifetime_seconds)
      : deps_(deps), key_(std::move(key)), lifetime_seconds_(lifetime_seconds) {}

  // A new code for `phone` (any accepted form), replacing any earlier one of that number,
  // issued by `issued_by` (a staff or operator name, for the audit trail). Errors:
  // kInvalidArgument for a phone number that is none; the stores' and audit trail's (then
  // no code is handed out).
  util::Result<IssuedCode> Issue(std::string_view phone, std::string_view issued_by);

  // Redeems `typed` (as the person typed it) for `phone` (canonical), an upload from
  // `peer`.
  RedeemOutcome Redeem(std::string_view phone, std::string_view typed, std::string_view peer);

 private:
  RedeemOutcome Wrong(std::string_view phone, std::string_view peer, std::string_view reason);

  UploadCodeDeps deps_;
  const util::SecretString key_;
  const std::int64_t lifetime_seconds_;
};

}  // namespace bluetrace::service
