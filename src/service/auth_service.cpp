#include "bluetrace/service/auth_service.hpp"

#include <openssl/sha.h>

#include <memory>
#include <utility>

#include "bluetrace/protocol/phone.hpp"

namespace bluetrace::service {

AuthService::AuthService(store::CredentialsStore& credentials, store::LockoutStore& lockouts,
                         WorkerPool& pool, AuthOptions options)
    : credentials_(credentials), lockouts_(lockouts), pool_(pool), options_(options) {}

std::string AuthService::LockoutKey(std::string_view name) {
  auto canonical = protocol::CanonicalPhone(name);
  if (canonical.ok()) return *canonical;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(name.data()), name.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string key = "?";
  for (int i = 0; i < 16; ++i) {
    key += kHex[digest[i] >> 4];
    key += kHex[digest[i] & 0xf];
  }
  return key;
}

LoginOutcome AuthService::VerifyAndCount(const std::string& name, const std::string& key,
                                         const util::SecretString& password) {
  LoginOutcome out;
  util::Status upgrade;
  auto verified = credentials_.Verify(name, password.view(), &upgrade);
  if (!verified.ok()) {
    out.error = verified.status();
    return out;
  }
  if (*verified == store::VerifyResult::kOk) {
    // A block set meanwhile by concurrent failures wins over this success.
    const store::BlockState block = lockouts_.Check(key);
    if (block.blocked) {
      ++stats_.logins_blocked;
      out.status = LoginStatus::kStillBlocked;
      out.seconds = block.seconds_left;
      return out;
    }
    util::Status reset = lockouts_.RecordSuccess(key);
    (void)reset;  // the in-memory reset stands; the next write persists it
    ++stats_.logins_ok;
    out.status = LoginStatus::kWelcome;
    out.user = key;
    out.error = upgrade;  // OK, or why the plaintext upgrade failed (for the log)
    return out;
  }
  const bool known = *verified == store::VerifyResult::kWrongPassword;
  auto failure = lockouts_.RecordFailure(key, known);
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
  return out;
}

void AuthService::Login(std::string user, util::SecretString password,
                        std::function<void(LoginOutcome)> done) {
  std::string key = LockoutKey(user);
  const store::BlockState block = lockouts_.Check(key);
  if (block.blocked) {
    ++stats_.logins_blocked;
    LoginOutcome out;
    out.status = LoginStatus::kStillBlocked;
    out.seconds = block.seconds_left;
    done(std::move(out));
    return;
  }
  // The job owns what it needs; SecretString wipes the password when the job ends.
  auto job = std::make_shared<
      std::tuple<std::string, std::string, util::SecretString, std::function<void(LoginOutcome)>>>(
      std::move(user), std::move(key), std::move(password), std::move(done));
  const bool queued = pool_.TrySubmit([this, job] {
    auto& [name, lockout_key, secret, callback] = *job;
    callback(VerifyAndCount(name, lockout_key, secret));
  });
  if (!queued) {
    ++stats_.logins_busy;
    LoginOutcome out;
    out.status = LoginStatus::kBusy;
    std::get<3> (*job)(std::move(out));
  }
}

void AuthService::Register(std::string user, util::SecretString password,
                           std::function<void(RegisterOutcome)> done) {
  RegisterOutcome out;
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
  if (password.size() < options_.min_password_length ||
      password.size() > options_.max_password_length) {
    out.status = RegisterStatus::kInvalid;
    out.error = util::InvalidArgument("the password must be " +
                                      std::to_string(options_.min_password_length) + " to " +
                                      std::to_string(options_.max_password_length) + " bytes long");
    done(std::move(out));
    return;
  }
  auto job = std::make_shared<
      std::tuple<std::string, util::SecretString, std::function<void(RegisterOutcome)>>>(
      std::move(*canonical), std::move(password), std::move(done));
  const bool queued = pool_.TrySubmit([this, job] {
    auto& [name, secret, callback] = *job;
    RegisterOutcome result;
    // The store re-reads credentials.txt under the inter-process lock before adding, so
    // a user bluetrace-admin added a moment ago is seen here.
    util::Status st = credentials_.AddUser(name, secret.view());
    if (st.ok()) {
      ++stats_.registrations;
      result.status = RegisterStatus::kRegistered;
      result.user = name;
    } else if (st.code() == util::StatusCode::kAlreadyExists) {
      result.status = RegisterStatus::kAlreadyExists;
      result.error = st;
    } else if (st.code() == util::StatusCode::kInvalidArgument) {
      result.status = RegisterStatus::kInvalid;
      result.error = st;
    } else {
      result.error = st;
    }
    callback(std::move(result));
  });
  if (!queued) {
    RegisterOutcome busy;
    busy.status = RegisterStatus::kBusy;
    std::get<2> (*job)(std::move(busy));
  }
}

}  // namespace bluetrace::service
