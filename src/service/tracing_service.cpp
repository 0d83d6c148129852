#include "bluetrace/service/tracing_service.hpp"

#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>
#include <utility>

#include "bluetrace/service/contact_check.hpp"
#include "bluetrace/util/plural.hpp"

namespace bluetrace::service {
namespace {

// A store that failed: kUnavailable (a database away or too slow to answer) becomes Busy,
// which the client retries later; anything else is an internal error. Nothing was
// acknowledged either way.
template <typename Outcome>
void FailedOnStore(ServiceStats& stats, Outcome& o, std::string_view what, const util::Status& st) {
  if (st.code() == util::StatusCode::kUnavailable) {
    ++stats.store_unavailable;
    o.status = TracingStatus::kBusy;
    spdlog::warn("{}: the storage is unavailable: {}", what, st.ToString());
  } else {
    ++stats.internal_errors;
    o.status = TracingStatus::kError;
    spdlog::error("{} failed: {}", what, st.ToString());
  }
  o.error = st.ToString();
}

}  // namespace

void TracingService::IssueTempId(const std::string& user, std::function<void(TempIdOutcome)> done) {
  std::chrono::milliseconds wait{0};
  if (!deps_.tempid_limiter.Allow(user, &wait)) {
    ++deps_.stats.rate_limited_tempids;
    TempIdOutcome o;
    o.status = TracingStatus::kRateLimited;
    o.retry_after = wait;
    return done(std::move(o));
  }
  auto job = std::make_shared<std::function<void(TempIdOutcome)>>(std::move(done));
  const bool queued = deps_.pool.TrySubmit([this, user, job] {
    TempIdOutcome o;
    const std::int64_t start = deps_.clock.NowUnixSeconds();
    const std::int64_t expiry = start + options_.tempid_lifetime_seconds - 1;
    auto record = deps_.tempids.Issue(user, start, expiry, deps_.random);
    if (!record.ok()) {
      FailedOnStore(deps_.stats, o, "issuing a TempID", record.status());
      return (*job)(std::move(o));
    }
    ++deps_.stats.tempids_issued;
    deps_.console.Print("user: " + user + "\nTempID:\n" + record->id.ToString() + "\n");
    o.status = TracingStatus::kDone;
    o.record = std::move(*record);
    (*job)(std::move(o));
  });
  if (!queued) {
    TempIdOutcome o;
    o.status = TracingStatus::kBusy;
    (*job)(std::move(o));
  }
}

void TracingService::CheckContactLog(const std::string& user, std::string log_text, UploadAuth auth,
                                     std::function<void(UploadOutcome)> done) {
  struct Job {
    std::string text;
    UploadAuth auth;
    std::function<void(UploadOutcome)> reply;
  };
  auto job = std::make_shared<Job>(Job{std::move(log_text), std::move(auth), std::move(done)});
  const bool queued = deps_.pool.TrySubmit([this, user, job] {
    auto& text = job->text;
    auto& reply = job->reply;
    UploadOutcome o;
    auto entries = protocol::ParseContactLog(text, "contact log", options_.time_mode,
                                             options_.max_upload_entries);
    if (!entries.ok()) {
      ++deps_.stats.uploads_rejected;
      o.status = entries.status().code() == util::StatusCode::kResourceExhausted
                     ? TracingStatus::kTooLarge
                     : TracingStatus::kInvalid;
      o.error = entries.status().message();
      return reply(std::move(o));
    }
    const std::int64_t now = deps_.clock.NowUnixSeconds();
    if (!Authorise(user, now, job->auth, o)) {
      ++deps_.stats.uploads_rejected;
      return reply(std::move(o));
    }
    o.entries = static_cast<std::uint32_t>(entries->size());
    auto checked = CheckContacts(
        user, now, std::move(*entries),
        [this](std::span<const protocol::TempId> ids) { return deps_.tempids.LookupAll(ids); });
    if (!checked.ok()) {
      FailedOnStore(deps_.stats, o, "looking up the TempIDs of a contact log", checked.status());
      return reply(std::move(o));
    }
    const ContactCheckResult& result = *checked;
    auto report = deps_.reports.Write(user, now, FormatReport(result, options_.time_mode));
    if (!report.ok()) {
      FailedOnStore(deps_.stats, o, "writing a contact report", report.status());
      return reply(std::move(o));
    }
    util::Status audited =
        deps_.audit.Record("contact_check", {{"user", user},
                                             {"entries", std::to_string(o.entries)},
                                             {"matched", std::to_string(result.matched)},
                                             {"mismatched", std::to_string(result.mismatched)},
                                             {"unknown", std::to_string(result.unknown)},
                                             {"report", *report}});
    if (!audited.ok()) {
      // Fail closed: the client is told the upload failed and will send it again.
      ++deps_.stats.internal_errors;
      spdlog::error("audit record contact_check not written: {}", audited.ToString());
      o.error = audited.ToString();
      return reply(std::move(o));
    }
    ++deps_.stats.uploads;
    deps_.stats.entries_matched += result.matched;
    deps_.stats.entries_mismatched += result.mismatched;
    deps_.stats.entries_unknown += result.unknown;
    deps_.console.Print(FormatConsoleLines(result, options_.time_mode));
    spdlog::info("contact log checked: {}, {} matched, {} mismatched, {} unknown; report {}",
                 util::Count(o.entries, "entry", "entries"), result.matched, result.mismatched,
                 result.unknown, *report);
    o.status = TracingStatus::kDone;
    reply(std::move(o));
  });
  if (!queued) {
    UploadOutcome o;
    o.status = TracingStatus::kBusy;
    job->reply(std::move(o));
  }
}

bool TracingService::Authorise(const std::string& user, std::int64_t now, const UploadAuth& auth,
                               UploadOutcome& o) {
  constexpr std::int64_t kDay = 24 * 3600;
  if (options_.max_uploads_per_day > 0) {
    auto count = deps_.reports.CountSince(user, now - kDay + 1);
    if (!count.ok()) {
      FailedOnStore(deps_.stats, o, "counting a user's reports", count.status());
      return false;
    }
    if (*count >= options_.max_uploads_per_day) {
      spdlog::info("an upload was refused: the user's daily upload budget is spent");
      o.status = TracingStatus::kQuota;
      o.error = "at most " + util::Count(options_.max_uploads_per_day, "upload", "uploads") +
                " per user in 24 hours";
      return false;
    }
  }
  if (deps_.upload_codes == nullptr) return true;
  const RedeemOutcome r = deps_.upload_codes->Redeem(user, auth.code.view(), auth.peer);
  switch (r.status) {
    case RedeemStatus::kRedeemed:
      return true;
    case RedeemStatus::kWrong:
      spdlog::info("an upload from {} was refused: wrong upload code", auth.peer);
      o.status = TracingStatus::kWrongCode;
      o.attempts_left = r.attempts_left;
      o.error = "wrong, used or expired upload code; " +
                util::Count(r.attempts_left, "try", "tries") + " left before a block";
      return false;
    case RedeemStatus::kBlocked:
      spdlog::info("an upload from {} was refused: too many wrong upload codes", auth.peer);
      o.status = TracingStatus::kCodeBlocked;
      o.retry_after = std::chrono::seconds(r.retry_seconds);
      o.error = "too many wrong upload codes";
      return false;
    case RedeemStatus::kError:
      FailedOnStore(deps_.stats, o, "redeeming an upload code", r.error);
      return false;
  }
  return false;
}

void TracingService::SessionEnded(const std::string& user, const std::string& peer,
                                  bool logged_out) {
  if (logged_out) {
    spdlog::info("{} logged out", user);
  } else {
    spdlog::info("a user from {} disconnected without logout; logged out", peer);
  }
  deps_.console.Print(user + " logout\n");
}

}  // namespace bluetrace::service
