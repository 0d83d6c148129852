#include "bluetrace/service/account_removal.hpp"

#include <memory>
#include <utility>

#include <spdlog/spdlog.h>

#include "bluetrace/protocol/phone.hpp"

namespace bluetrace::service {

util::Result<RemovedAccount> RemoveAccount(store::Stores& stores, std::string_view user) {
  RemovedAccount out;
  BLUETRACE_ASSIGN_OR_RETURN(out.user, protocol::CanonicalPhone(user));
  BLUETRACE_RETURN_IF_ERROR(stores.users->RemoveUser(out.user));
  BLUETRACE_RETURN_IF_ERROR(stores.lockouts->RecordSuccess(out.user));
  if (stores.code_failures) {
    BLUETRACE_RETURN_IF_ERROR(stores.code_failures->RecordSuccess(out.user));
  }
  if (stores.upload_codes) BLUETRACE_RETURN_IF_ERROR(stores.upload_codes->RemoveUser(out.user));
  if (stores.tempids) {
    BLUETRACE_ASSIGN_OR_RETURN(out.tempids_removed, stores.tempids->RemoveUser(out.user));
  } else {
    out.tempids_kept = true;
  }
  return out;
}

void DeregistrationService::Deregister(std::string user, util::SecretString password,
                                       std::function<void(DeregisterOutcome)> done) {
  struct Job {
    std::string user;
    util::SecretString password;
    std::function<void(DeregisterOutcome)> done;
  };
  auto job = std::make_shared<Job>(Job{std::move(user), std::move(password), std::move(done)});
  const bool queued = pool_.TrySubmit([this, job] {
    DeregisterOutcome o;
    const auto fail = [&](const util::Status& st) {
      o.status = st.code() == util::StatusCode::kUnavailable ? DeregisterStatus::kBusy
                                                             : DeregisterStatus::kError;
      o.error = st;
      job->done(std::move(o));
    };
    if (const store::BlockState b = stores_.lockouts->Check(job->user); b.blocked) {
      o.status = DeregisterStatus::kStillBlocked;
      o.seconds = b.seconds_left;
      return job->done(std::move(o));
    }
    auto verified = stores_.users->Verify(job->user, job->password.view());
    job->password.clear();
    if (!verified.ok()) return fail(verified.status());
    if (*verified != store::VerifyResult::kOk) {
      auto failure = stores_.lockouts->RecordFailure(job->user, /*known_user=*/true);
      if (!failure.ok()) return fail(failure.status());
      o.status =
          failure->now_blocked ? DeregisterStatus::kBlocked : DeregisterStatus::kWrongPassword;
      o.attempts_left = failure->attempts_left;
      o.seconds = failure->block_seconds;
      return job->done(std::move(o));
    }
    auto removed = RemoveAccount(stores_, job->user);
    if (!removed.ok() && removed.status().code() == util::StatusCode::kNotFound) {
      // Removed since the password was checked (the same user on another connection, or
      // the admin tool): what the user asked for is done, by the one that removed it.
      o.status = DeregisterStatus::kRemoved;
      return job->done(std::move(o));
    }
    if (!removed.ok()) return fail(removed.status());
    // The account is gone whatever the audit trail says: withdrawal cannot fail closed.
    if (auto st = stores_.audit->Record(
            "deregistered",
            {{"user", removed->user}, {"tempids", std::to_string(removed->tempids_removed)}});
        !st.ok()) {
      spdlog::error("audit record deregistered not written: {}", st.ToString());
    }
    o.status = DeregisterStatus::kRemoved;
    job->done(std::move(o));
  });
  if (!queued) {
    DeregisterOutcome o;
    o.status = DeregisterStatus::kBusy;
    job->done(std::move(o));
  }
}

}  // namespace bluetrace::service
