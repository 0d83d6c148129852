#include "bluetrace/service/upload_code_service.hpp"

#include <spdlog/spdlog.h>

#include "bluetrace/protocol/phone.hpp"
#include "bluetrace/service/upload_code.hpp"

namespace bluetrace::service {

util::Result<IssuedCode> UploadCodeService::Issue(std::string_view phone,
                                                  std::string_view issued_by) {
  BLUETRACE_ASSIGN_OR_RETURN(std::string canonical, protocol::CanonicalPhone(phone));
  BLUETRACE_ASSIGN_OR_RETURN(util::SecretString code, GenerateUploadCode(deps_.random));
  BLUETRACE_ASSIGN_OR_RETURN(std::string digest,
                             UploadCodeDigest(key_.view(), canonical, code.view()));
  const std::int64_t now = deps_.clock.NowUnixSeconds();
  store::UploadCodeRecord record{canonical, std::move(digest), now, now + lifetime_seconds_};
  BLUETRACE_RETURN_IF_ERROR(deps_.codes.Put(record));
  BLUETRACE_RETURN_IF_ERROR(
      deps_.audit.Record("upload_code_issued", {{"user", canonical},
                                                {"by", std::string(issued_by)},
                                                {"expires", std::to_string(record.expires_at)}}));
  return IssuedCode{std::move(code), std::move(canonical), record.expires_at};
}

RedeemOutcome UploadCodeService::Redeem(std::string_view phone, std::string_view typed,
                                        std::string_view peer) {
  RedeemOutcome o;
  // Every try costs a token of the address; a redeemed code gives it back, so the bucket
  // counts wrong codes.
  std::chrono::milliseconds wait{0};
  if (deps_.address_limiter != nullptr && !deps_.address_limiter->Allow(peer, &wait)) {
    o.status = RedeemStatus::kBlocked;
    o.retry_seconds = (wait.count() + 999) / 1000;
    return o;
  }
  if (const store::BlockState block = deps_.failures.Check(phone); block.blocked) {
    o.status = RedeemStatus::kBlocked;
    o.retry_seconds = block.seconds_left;
    return o;
  }
  auto code = NormalizeUploadCode(typed);
  if (!code.ok()) return Wrong(phone, peer, "malformed");
  auto digest = UploadCodeDigest(key_.view(), phone, code->view());
  if (!digest.ok()) {
    o.error = digest.status();
    return o;
  }
  auto redeemed = deps_.codes.Redeem(phone, *digest, deps_.clock.NowUnixSeconds());
  if (!redeemed.ok()) {
    o.error = redeemed.status();
    return o;
  }
  if (*redeemed == store::RedeemResult::kExpired) return Wrong(phone, peer, "expired");
  if (*redeemed == store::RedeemResult::kWrong) return Wrong(phone, peer, "wrong");
  if (deps_.address_limiter != nullptr) deps_.address_limiter->Refund(peer);
  if (auto st = deps_.failures.RecordSuccess(phone); !st.ok()) {
    spdlog::warn("forgetting wrong upload codes failed: {}", st.ToString());
  }
  if (auto st = deps_.audit.Record("upload_code_redeemed", {{"user", std::string(phone)}});
      !st.ok()) {
    o.error = st;  // fail closed: the upload is refused (its code is spent)
    return o;
  }
  o.status = RedeemStatus::kRedeemed;
  return o;
}

RedeemOutcome UploadCodeService::Wrong(std::string_view phone, std::string_view peer,
                                       std::string_view reason) {
  RedeemOutcome o;
  auto failure = deps_.failures.RecordFailure(phone, /*known_user=*/true);
  if (!failure.ok()) {
    o.error = failure.status();
    return o;
  }
  if (auto st = deps_.audit.Record("upload_code_failed", {{"user", std::string(phone)},
                                                          {"peer", std::string(peer)},
                                                          {"reason", std::string(reason)}});
      !st.ok()) {
    o.error = st;
    return o;
  }
  if (failure->now_blocked) {
    o.status = RedeemStatus::kBlocked;
    o.retry_seconds = failure->block_seconds;
    return o;
  }
  o.status = RedeemStatus::kWrong;
  o.attempts_left = failure->attempts_left;
  return o;
}

}  // namespace bluetrace::service
