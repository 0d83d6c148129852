#include "bluetrace/service/auth_service.hpp"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>

#include <utility>

#include "bluetrace/protocol/phone.hpp"
#include "bluetrace/util/digest.hpp"

namespace bluetrace::service {

struct AuthService::Attempt {
  LoginRequest request;
  std::string name;         // canonical phone number, or the digest key of a non-number
  std::string lockout_key;  // name, or name#device with the device defence
  std::string device;       // the presented token's device id when it is valid
  Lane lane;
  std::function<void(LoginOutcome)> done;
};

AuthService::AuthService(AuthDeps deps, AuthOptions options) : deps_(deps), options_(options) {}

std::string AuthService::LockoutKey(std::string_view name) {
  auto canonical = protocol::CanonicalPhone(name);
  if (canonical.ok()) return *canonical;
  return "?" + util::Sha256Hex(name).substr(0, 32);
}

std::string AuthService::SourceOf(std::string_view address, std::uint32_t prefix_v4,
                                  std::uint32_t prefix_v6) {
  const std::string text(address);
  unsigned char bytes[16] = {};
  std::size_t len = 0;
  std::uint32_t prefix = 0;
  int family = 0;
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) {
    len = 4;
    prefix = std::min<std::uint32_t>(prefix_v4, 32);
    family = AF_INET;
  } else if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
    len = 16;
    prefix = std::min<std::uint32_t>(prefix_v6, 128);
    family = AF_INET6;
  } else {
    return "other:" + text;
  }
  for (std::size_t i = 0; i < len; ++i) {
    const std::uint32_t bit = static_cast<std::uint32_t>(i) * 8;
    if (bit >= prefix) {
      bytes[i] = 0;
    } else if (prefix - bit < 8) {
      bytes[i] = static_cast<unsigned char>(bytes[i] & (0xff << (8 - (prefix - bit))));
    }
  }
  char out[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes, out, sizeof(out));
  return std::string(out) + "/" + std::to_string(prefix);
}

void AuthService::AuditLogin(const Attempt& a, LoginOutcome& o) {
  const std::string& peer = a.request.peer;
  util::Status st;
  switch (o.status) {
    case LoginStatus::kWelcome:
      st = deps_.audit.Record("login_ok", {{"user", o.user}, {"peer", peer}});
      break;
    case LoginStatus::kWrongPassword:
    case LoginStatus::kBlocked:
      st = deps_.audit.Record(
          "login_failed",
          {{"user", a.request.user},
           {"peer", peer},
           {"outcome", o.status == LoginStatus::kBlocked ? "blocked_now" : "wrong_password"}});
      break;
    case LoginStatus::kStillBlocked:
      st = deps_.audit.Record("login_blocked", {{"user", a.request.user}, {"peer", peer}});
      break;
    case LoginStatus::kBusy:
    case LoginStatus::kRateLimited:
    case LoginStatus::kError:
      return;  // nothing was decided
  }
  if (!st.ok()) {
    LoginOutcome failed;
    // The trail's own code: kUnavailable (a database away, a log waiting to reopen) is
    // answered Busy, anything else as an internal error.
    failed.error = util::Status(st.code(), "audit record not written: " + st.message());
    o = std::move(failed);
  }
}

LoginOutcome AuthService::StillBlocked(const Attempt& a, std::int64_t seconds_left) {
  ++stats_.logins_blocked;
  LoginOutcome out;
  out.status = LoginStatus::kStillBlocked;
  out.seconds = seconds_left;
  AuditLogin(a, out);
  return out;
}

LoginOutcome AuthService::Count(Attempt& a, const util::Result<store::VerifyResult>& verified,
                                const util::Status& upgrade) {
  LoginOutcome out;
  if (!verified.ok()) {
    out.error = verified.status();
    return out;
  }
  if (*verified == store::VerifyResult::kOk) {
    util::Status reset = deps_.lockouts.RecordSuccess(a.lockout_key);
    (void)reset;  // the in-memory reset stands; the next write persists it
    ++stats_.logins_ok;
    out.status = LoginStatus::kWelcome;
    out.user = a.name;
    out.warning = upgrade;  // OK, or why the plaintext upgrade failed (for the log)
    if (a.request.issue_device_token && a.device.empty() && deps_.devices != nullptr) {
      auto token = deps_.devices->Issue(a.name, deps_.random);
      if (token.ok()) {
        ++stats_.device_tokens_issued;
        out.device_token = util::SecretString(std::move(*token));
      } else if (out.warning.ok()) {
        out.warning = token.status().WithContext("device token not issued");
      }
    }
    AuditLogin(a, out);
    return out;
  }
  const bool known = *verified == store::VerifyResult::kWrongPassword;
  auto failure = deps_.lockouts.RecordFailure(a.lockout_key, known);
  if (!failure.ok()) {
    out.error = failure.status();
    return out;
  }
  ++stats_.logins_failed;
  if (failure->now_blocked) {
    ++stats_.logins_blocked;
    out.status = LoginStatus::kBlocked;
    out.seconds = failure->block_seconds;
  } else {
    out.status = LoginStatus::kWrongPassword;
    out.attempts_left = failure->attempts_left;
  }
  AuditLogin(a, out);
  return out;
}

void AuthService::Run(const std::shared_ptr<Attempt>& a) {
  // The block is looked at again right before the hash: guesses that waited behind the
  // failure that set it get the answer of any guess during a block, unverified.
  const store::BlockState block = deps_.lockouts.Check(a->lockout_key);
  if (block.blocked) {
    return Finish(a, [this, a, seconds = block.seconds_left] { return StillBlocked(*a, seconds); });
  }
  ++stats_.verifications;
  util::Status upgrade;
  auto verified = deps_.users.Verify(a->request.user, a->request.password.view(), &upgrade);
  Finish(a, [this, a, verified = std::move(verified), upgrade = std::move(upgrade)] {
    return Count(*a, verified, upgrade);
  });
}

void AuthService::Finish(const std::shared_ptr<Attempt>& a, std::function<LoginOutcome()> decide) {
  // The next guess of this key starts only once this one is counted (see the header).
  std::function<void()> job = [this, a, decide = std::move(decide)] {
    a->done(decide());
    Next(a->lockout_key);
  };
  if (deps_.bookkeeping != nullptr && deps_.bookkeeping->TrySubmit(job)) return;
  job();
}

void AuthService::Dispatch(std::shared_ptr<Attempt> attempt) {
  const Lane lane = attempt->lane;
  const std::string key = attempt->lockout_key;
  const bool queued = deps_.pool.TrySubmit([this, attempt] { Run(attempt); }, lane);
  if (!queued) {
    ++stats_.logins_busy;
    LoginOutcome out;
    out.status = LoginStatus::kBusy;
    attempt->done(std::move(out));
    Next(key);
  }
}

void AuthService::Next(const std::string& key) {
  std::shared_ptr<Attempt> next;
  {
    util::MutexLock lock(mu_);
    auto it = active_.find(key);
    if (it == active_.end()) return;
    if (it->second.waiting.empty()) {
      active_.erase(it);
      return;
    }
    next = std::move(it->second.waiting.front());
    it->second.waiting.pop_front();
  }
  Dispatch(std::move(next));
}

void AuthService::Login(LoginRequest request, std::function<void(LoginOutcome)> done) {
  if (deps_.address_limiter != nullptr) {
    std::chrono::milliseconds wait{0};
    if (!deps_.address_limiter->Allow(request.peer, &wait)) {
      ++stats_.rate_limited;
      LoginOutcome out;
      out.status = LoginStatus::kRateLimited;
      out.retry_after = wait;
      return done(std::move(out));
    }
    done = [limiter = deps_.address_limiter, peer = request.peer,
            inner = std::move(done)](LoginOutcome o) {
      if (o.status == LoginStatus::kBusy) limiter->Refund(peer);
      inner(std::move(o));
    };
  }
  auto a = std::make_shared<Attempt>();
  a->name = LockoutKey(request.user);
  a->lockout_key = a->name;
  if (deps_.devices != nullptr && !request.device_token.empty()) {
    if (auto device = deps_.devices->Find(a->name, request.device_token.view())) {
      a->device = *device;
      if (options_.device_lockout) a->lockout_key = a->name + "#" + a->device;
    }
  }
  a->lane.source = SourceOf(request.peer, options_.source_prefix_v4, options_.source_prefix_v6);
  a->lane.priority = !a->device.empty();
  a->request = std::move(request);
  a->done = std::move(done);

  if (!deps_.audit.healthy()) {
    LoginOutcome out;
    out.error = util::Internal("the audit log is not writable");
    a->done(std::move(out));
    return;
  }
  const store::BlockState block = deps_.lockouts.Check(a->lockout_key);
  if (block.blocked) {
    a->done(StillBlocked(*a, block.seconds_left));
    return;
  }
  {
    util::MutexLock lock(mu_);
    auto [it, first] = active_.try_emplace(a->lockout_key);
    if (!first) {
      if (it->second.waiting.size() >= options_.max_waiting_per_key) {
        ++stats_.logins_busy;
        LoginOutcome out;
        out.status = LoginStatus::kBusy;
        a->done(std::move(out));
        return;
      }
      it->second.waiting.push_back(std::move(a));
      return;
    }
  }
  Dispatch(std::move(a));
}

void AuthService::Register(std::string user, util::SecretString password, std::string peer,
                           std::function<void(RegisterOutcome)> done) {
  RegisterOutcome out;
  if (deps_.address_limiter != nullptr) {
    std::chrono::milliseconds wait{0};
    if (!deps_.address_limiter->Allow(peer, &wait)) {
      ++stats_.rate_limited;
      out.status = RegisterStatus::kRateLimited;
      out.retry_after = wait;
      return done(std::move(out));
    }
    done = [limiter = deps_.address_limiter, peer, inner = std::move(done)](RegisterOutcome o) {
      if (o.status == RegisterStatus::kBusy) limiter->Refund(peer);
      inner(std::move(o));
    };
  }
  if (!options_.registration_enabled) {
    out.status = RegisterStatus::kDisabled;
    done(std::move(out));
    return;
  }
  auto canonical = protocol::CanonicalPhone(user);
  if (!canonical.ok()) {
    out.status = RegisterStatus::kInvalid;
    out.error = canonical.status();
    done(std::move(out));
    return;
  }
  if (util::Status rule = CheckPasswordLength(password.size(), options_.min_password_length,
                                              options_.max_password_length);
      !rule.ok()) {
    out.status = RegisterStatus::kInvalid;
    out.error = std::move(rule);
    done(std::move(out));
    return;
  }
  if (!deps_.audit.healthy()) {
    out.error = util::Internal("the audit log is not writable");
    done(std::move(out));
    return;
  }
  struct Job {
    std::string name;
    util::SecretString secret;
    std::string peer;
    std::function<void(RegisterOutcome)> callback;
  };
  auto job = std::make_shared<Job>(
      Job{std::move(*canonical), std::move(password), std::move(peer), std::move(done)});
  Lane lane{SourceOf(job->peer, options_.source_prefix_v4, options_.source_prefix_v6), false};
  const bool queued = deps_.pool.TrySubmit(
      [this, job] {
        RegisterOutcome result;
        // The store re-reads credentials.txt under the inter-process lock before adding,
        // so a user bluetrace-admin added a moment ago is seen here.
        util::Status st = deps_.users.AddUser(job->name, job->secret.view());
        if (st.ok()) {
          ++stats_.registrations;
          util::Status audited =
              deps_.audit.Record("registered", {{"user", job->name}, {"peer", job->peer}});
          if (audited.ok()) {
            result.status = RegisterStatus::kRegistered;
            result.user = job->name;
          } else {
            result.error =
                util::Status(audited.code(), "audit record not written: " + audited.message());
          }
        } else if (st.code() == util::StatusCode::kAlreadyExists) {
          result.status = RegisterStatus::kAlreadyExists;
          result.error = st;
        } else if (st.code() == util::StatusCode::kInvalidArgument) {
          result.status = RegisterStatus::kInvalid;
          result.error = st;
        } else {
          result.error = st;
        }
        job->callback(std::move(result));
      },
      lane);
  if (!queued) {
    RegisterOutcome busy;
    busy.status = RegisterStatus::kBusy;
    job->callback(std::move(busy));
  }
}

}  // namespace bluetrace::service
