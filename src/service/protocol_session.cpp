#include "protocol_session.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "bluetrace/protocol/phone.hpp"
#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/service/contact_check.hpp"
#include "bluetrace/util/plural.hpp"
#include "bluetrace/version.hpp"

namespace bluetrace::service {

using protocol::ErrorCode;
using protocol::Message;

namespace {

// A store's status for a log line that names the peer's address: without phone numbers.
std::string ForLog(const util::Status& st) { return protocol::RedactPhoneNumbers(st.ToString()); }

SessionReply One(Message m, bool close = false) {
  SessionReply r;
  r.messages.push_back(std::move(m));
  r.close = close;
  return r;
}

constexpr std::uint32_t kBusyRetryMs = 1000;

std::uint32_t ClampU32(std::int64_t v) {
  if (v < 0) return 0;
  if (v > 0xffffffffLL) return 0xffffffffu;
  return static_cast<std::uint32_t>(v);
}

// RateLimited (version 2) or Error{rate_limited} (version 1), both saying when to retry:
// "<what>; retry in <n> s".
SessionReply RateLimitedReply(bool v2, const std::string& what, std::chrono::milliseconds wait) {
  const auto seconds = (wait.count() + 999) / 1000;
  std::string text = what + "; retry in " + std::to_string(seconds) + " s";
  if (v2) return One(protocol::RateLimited{ClampU32(wait.count()), std::move(text)});
  return One(protocol::Error{ErrorCode::kRateLimited, std::move(text)});
}

}  // namespace

ProtocolSession::ProtocolSession(SessionServices services, SessionLimits limits,
                                 std::string peer_address)
    : services_(services),
      limits_(limits),
      peer_(std::move(peer_address)),
      state_(std::make_shared<State>()),
      upload_(limits.max_upload_bytes) {}

ProtocolSession::~ProtocolSession() { Closed(); }

ProtocolSession::Phase ProtocolSession::phase() const {
  std::lock_guard lock(state_->mu);
  return state_->phase;
}

std::string ProtocolSession::user() const {
  std::lock_guard lock(state_->mu);
  return state_->user;
}

std::uint16_t ProtocolSession::version() const {
  std::lock_guard lock(state_->mu);
  return state_->version;
}

bool ProtocolSession::logged_in() const { return phase() == Phase::kLoggedIn; }

void ProtocolSession::Closed() {
  std::string vanished;
  {
    std::lock_guard lock(state_->mu);
    if (state_->phase == Phase::kLoggedIn) vanished = state_->user;
    state_->phase = Phase::kClosed;
  }
  upload_.Reset();
  // A client that disappears counts as logged out (docs/PROTOCOL.md, "The session").
  if (!vanished.empty()) services_.tracing.SessionEnded(vanished, peer_, /*logged_out=*/false);
}

// An upload the assembler refused (`st`): dropped, counted, answered once. The rest of a
// refused upload (its chunks) is then swallowed, except after a message out of order
// (kFailedPrecondition), where nothing of an upload is under way.
void ProtocolSession::RejectUpload(ReplyFn& done, const util::Status& st) {
  ++services_.stats.uploads_rejected;
  upload_.Reset();
  upload_code_.clear();
  upload_failed_ = st.code() != util::StatusCode::kFailedPrecondition;
  Refuse(done,
         st.code() == util::StatusCode::kResourceExhausted    ? ErrorCode::kTooLarge
         : st.code() == util::StatusCode::kFailedPrecondition ? ErrorCode::kUnexpectedMessage
                                                              : ErrorCode::kInvalidArgument,
         st.message(), false);
}

void ProtocolSession::Refuse(ReplyFn& done, ErrorCode code, std::string text, bool close) {
  if (code == ErrorCode::kUnexpectedMessage) ++services_.stats.protocol_errors;
  done(One(protocol::Error{code, std::move(text)}, close));
}

void ProtocolSession::Handle(Message message, ReplyFn done) {
  const protocol::MessageType type = protocol::TypeOf(message);
  if (auto* ping = std::get_if<protocol::Ping>(&message)) {
    done(One(protocol::Pong{ping->nonce}));
    return;
  }
  const Phase p = phase();
  if (p == Phase::kClosed) {
    Refuse(done, ErrorCode::kUnexpectedMessage, "the session is over", true);
    return;
  }
  if (p == Phase::kAwaitHello) {
    if (auto* hello = std::get_if<protocol::Hello>(&message)) {
      OnHello(*hello, done);
    } else {
      Refuse(done, ErrorCode::kUnexpectedMessage,
             "the first message must be Hello, not " + std::string(protocol::MessageName(type)),
             true);
    }
    return;
  }
  switch (type) {
    case protocol::MessageType::kLogin: {
      if (p != Phase::kAwaitLogin) break;
      auto& login = std::get<protocol::Login>(message);
      OnLogin(std::move(login.user), std::move(login.password), util::SecretString(),
              /*device_login=*/false, done);
      return;
    }
    case protocol::MessageType::kDeviceLogin: {
      if (p != Phase::kAwaitLogin) break;
      if (version() < 2) {
        Refuse(done, ErrorCode::kUnexpectedMessage, "DeviceLogin needs protocol version 2", false);
        return;
      }
      auto& login = std::get<protocol::DeviceLogin>(message);
      OnLogin(std::move(login.user), std::move(login.password), std::move(login.device_token),
              /*device_login=*/true, done);
      return;
    }
    case protocol::MessageType::kRegister:
      if (p != Phase::kAwaitLogin) break;
      OnRegister(std::get<protocol::Register>(std::move(message)), done);
      return;
    case protocol::MessageType::kLogout:
      OnLogout(done);
      return;
    case protocol::MessageType::kTempIdRequest:
      if (p != Phase::kLoggedIn) break;
      OnTempIdRequest(done);
      return;
    case protocol::MessageType::kUploadBegin:
      if (p != Phase::kLoggedIn) break;
      OnUploadBegin(std::get<protocol::UploadBegin>(message).total_bytes, util::SecretString(),
                    /*coded=*/false, done);
      return;
    case protocol::MessageType::kCodedUploadBegin: {
      if (p != Phase::kLoggedIn) break;
      if (version() < 3) {
        Refuse(done, ErrorCode::kUnexpectedMessage, "CodedUploadBegin needs protocol version 3",
               false);
        return;
      }
      auto& begin = std::get<protocol::CodedUploadBegin>(message);
      OnUploadBegin(begin.total_bytes, std::move(begin.code), /*coded=*/true, done);
      return;
    }
    case protocol::MessageType::kUploadChunk: {
      if (p != Phase::kLoggedIn) break;
      if (upload_failed_) {
        // The rest of an upload that already got its one answer (an Error).
        done(SessionReply{});
        return;
      }
      util::Status st = upload_.Add(std::get<protocol::UploadChunk>(message));
      if (!st.ok()) return RejectUpload(done, st);
      // Chunks need no answer of their own; the transport sends nothing.
      done(SessionReply{});
      return;
    }
    case protocol::MessageType::kDeregister:
      if (p != Phase::kLoggedIn) break;
      if (version() < 3) {
        Refuse(done, ErrorCode::kUnexpectedMessage, "Deregister needs protocol version 3", false);
        return;
      }
      OnDeregister(std::get<protocol::Deregister>(std::move(message)), done);
      return;
    case protocol::MessageType::kUploadEnd:
      if (p != Phase::kLoggedIn) break;
      if (upload_failed_) {
        upload_failed_ = false;  // its Error was the upload's one answer
        done(SessionReply{});
        return;
      }
      OnUploadEnd(done);
      return;
    case protocol::MessageType::kHello:
      Refuse(done, ErrorCode::kUnexpectedMessage, "Hello was already received", false);
      return;
    default:
      // A server-to-client message sent by a client: it does not speak the protocol.
      Refuse(done, ErrorCode::kUnexpectedMessage,
             std::string(protocol::MessageName(type)) + " is sent by servers only", true);
      return;
  }
  Refuse(done, ErrorCode::kUnexpectedMessage,
         std::string(protocol::MessageName(type)) +
             (p == Phase::kLoggedIn ? " is not allowed after login" : " needs a login first"),
         false);
}

void ProtocolSession::OnHello(const protocol::Hello& hello, ReplyFn& done) {
  // The highest version both speak.
  const std::uint16_t chosen = std::min(hello.max_version, protocol::kProtocolVersion);
  if (hello.min_version > hello.max_version || chosen < hello.min_version ||
      chosen < protocol::kMinProtocolVersion) {
    Refuse(done, ErrorCode::kUnsupportedVersion,
           "this server speaks protocol versions " + std::to_string(protocol::kMinProtocolVersion) +
               " to " + std::to_string(protocol::kProtocolVersion),
           true);
    return;
  }
  {
    std::lock_guard lock(state_->mu);
    state_->phase = Phase::kAwaitLogin;
    state_->version = chosen;
  }
  protocol::HelloOk ok;
  ok.version = chosen;
  ok.software = std::string("bluetrace-server ") + kVersion;
  ok.max_frame_bytes = limits_.max_frame_bytes;
  ok.max_upload_bytes = limits_.max_upload_bytes;
  if (chosen >= 3 && limits_.require_code) ok.flags |= protocol::kHelloFlagUploadCodeRequired;
  done(One(std::move(ok)));
}

void ProtocolSession::OnUploadBegin(std::uint64_t total_bytes, util::SecretString code, bool coded,
                                    ReplyFn& done) {
  upload_failed_ = false;
  upload_code_.clear();
  if (limits_.require_code && !coded) {
    // Refused before the data: its chunks and UploadEnd are taken without a reply.
    ++services_.stats.uploads_rejected;
    upload_.Reset();
    upload_failed_ = true;
    Refuse(done, ErrorCode::kUploadCodeRequired,
           version() >= 3 ? "this server needs an upload code with every upload (CodedUploadBegin)"
                          : "this server accepts uploads only with an upload code from the health "
                            "authority; update the client (protocol version 3)",
           false);
    return;
  }
  util::Status st = upload_.Begin(protocol::UploadBegin{total_bytes});
  if (!st.ok()) return RejectUpload(done, st);
  upload_code_ = std::move(code);
  done(SessionReply{});
}

void ProtocolSession::OnLogin(std::string user, util::SecretString password,
                              util::SecretString device_token, bool device_login, ReplyFn& done) {
  const bool v2 = version() >= 2;
  LoginRequest request;
  request.user = std::move(user);
  request.password = std::move(password);
  request.device_token = std::move(device_token);
  request.issue_device_token = device_login;  // DeviceLogin is answered DeviceWelcome
  request.peer = peer_;
  auto state = state_;
  std::string peer = peer_;
  ServiceStats* stats = &services_.stats;
  services_.auth.Login(std::move(request), [state, peer, v2, device_login, stats,
                                            done = std::move(done)](LoginOutcome o) {
    switch (o.status) {
      case LoginStatus::kWelcome: {
        if (!o.warning.ok()) spdlog::warn("login from {}: {}", peer, ForLog(o.warning));
        {
          std::lock_guard lock(state->mu);
          if (state->phase != Phase::kAwaitLogin) return done(SessionReply{});
          state->phase = Phase::kLoggedIn;
          state->user = o.user;
        }
        spdlog::info("a user logged in from {}", peer);
        if (device_login) {
          return done(One(protocol::DeviceWelcome{o.user, std::string(protocol::kWelcomeText),
                                                  std::move(o.device_token)}));
        }
        return done(One(protocol::Welcome{o.user, std::string(protocol::kWelcomeText)}));
      }
      case LoginStatus::kWrongPassword:
        spdlog::info("failed login from {}", peer);
        return done(One(protocol::WrongPassword{
            static_cast<std::uint8_t>(std::min<std::uint32_t>(o.attempts_left, 255))}));
      case LoginStatus::kBlocked:
        spdlog::info("failed login from {}; the account is blocked for {} s", peer, o.seconds);
        return done(One(protocol::Blocked{ClampU32(o.seconds)}, true));
      case LoginStatus::kStillBlocked:
        spdlog::info("login from {} refused: the account is blocked", peer);
        return done(One(protocol::StillBlocked{ClampU32(o.seconds)}, true));
      case LoginStatus::kBusy:
        return done(One(protocol::Busy{kBusyRetryMs}));
      case LoginStatus::kRateLimited:
        return done(
            RateLimitedReply(v2, "too many login attempts from this address", o.retry_after));
      case LoginStatus::kError:
        if (o.error.code() == util::StatusCode::kUnavailable) {  // a database away
          ++stats->store_unavailable;
          spdlog::warn("login from {}: the storage is unavailable: {}", peer, ForLog(o.error));
          return done(One(protocol::Busy{kBusyRetryMs}));
        }
        ++stats->internal_errors;
        spdlog::error("login from {} failed internally: {}", peer, ForLog(o.error));
        return done(One(protocol::Error{ErrorCode::kInternal, "internal error; retry later"}));
    }
  });
}

void ProtocolSession::OnRegister(protocol::Register reg, ReplyFn& done) {
  const bool v2 = version() >= 2;
  std::string peer = peer_;
  ServiceStats* stats = &services_.stats;
  services_.auth.Register(
      std::move(reg.user), std::move(reg.password), peer_,
      [peer, v2, stats, done = std::move(done)](RegisterOutcome o) {
        switch (o.status) {
          case RegisterStatus::kRegistered:
            spdlog::info("a new user registered from {}", peer);
            return done(One(protocol::RegisterOk{o.user}));
          case RegisterStatus::kDisabled:
            return done(One(protocol::Error{ErrorCode::kRegistrationDisabled,
                                            "this server does not accept registrations"}));
          case RegisterStatus::kInvalid:
            return done(One(protocol::Error{ErrorCode::kInvalidArgument, o.error.message()}));
          case RegisterStatus::kAlreadyExists:
            return done(
                One(protocol::Error{ErrorCode::kAlreadyExists, "this UserID is already taken"}));
          case RegisterStatus::kBusy:
            return done(One(protocol::Busy{kBusyRetryMs}));
          case RegisterStatus::kRateLimited:
            return done(RateLimitedReply(v2, "too many attempts from this address", o.retry_after));
          case RegisterStatus::kError:
            if (o.error.code() == util::StatusCode::kUnavailable) {  // a database away
              ++stats->store_unavailable;
              spdlog::warn("registration from {}: the storage is unavailable: {}", peer,
                           ForLog(o.error));
              return done(One(protocol::Busy{kBusyRetryMs}));
            }
            ++stats->internal_errors;
            spdlog::error("registration from {} failed: {}", peer, ForLog(o.error));
            return done(One(protocol::Error{ErrorCode::kInternal, "internal error; retry later"}));
        }
      });
}

void ProtocolSession::OnTempIdRequest(ReplyFn& done) {
  const bool v2 = version() >= 2;
  services_.tracing.IssueTempId(user(), [v2, done = std::move(done)](TempIdOutcome o) {
    switch (o.status) {
      case TracingStatus::kDone:
        return done(One(protocol::TempIdResponse{o.record.id, o.record.start, o.record.expiry}));
      case TracingStatus::kRateLimited:
        return done(RateLimitedReply(v2, "too many TempID requests", o.retry_after));
      case TracingStatus::kBusy:
        return done(One(protocol::Busy{kBusyRetryMs}));
      default:
        return done(One(protocol::Error{ErrorCode::kInternal, "could not issue a TempID"}));
    }
  });
}

void ProtocolSession::OnUploadEnd(ReplyFn& done) {
  auto text = upload_.Finish();
  if (!text.ok()) {
    ++services_.stats.uploads_rejected;
    Refuse(done,
           text.status().code() == util::StatusCode::kFailedPrecondition
               ? ErrorCode::kUnexpectedMessage
               : ErrorCode::kInvalidArgument,
           text.status().message(), false);
    return;
  }
  UploadAuth auth{std::move(upload_code_), peer_};
  upload_code_.clear();
  const bool v2 = version() >= 2;
  services_.tracing.CheckContactLog(
      user(), std::move(*text), std::move(auth), [v2, done = std::move(done)](UploadOutcome o) {
        switch (o.status) {
          case TracingStatus::kDone:
            return done(One(protocol::UploadAck{o.entries}));
          case TracingStatus::kInvalid:
            return done(One(protocol::Error{ErrorCode::kInvalidArgument, o.error}));
          case TracingStatus::kTooLarge:
            return done(One(protocol::Error{ErrorCode::kTooLarge, o.error}));
          case TracingStatus::kWrongCode:
            return done(One(protocol::Error{ErrorCode::kWrongUploadCode, o.error}));
          case TracingStatus::kCodeBlocked:
            return done(RateLimitedReply(v2, o.error, o.retry_after));
          case TracingStatus::kQuota:
            return done(One(protocol::Error{ErrorCode::kUploadQuota, o.error}));
          case TracingStatus::kBusy:
            return done(One(protocol::Busy{kBusyRetryMs}));
          default:
            return done(
                One(protocol::Error{ErrorCode::kInternal, "could not store the contact log"}));
        }
      });
}

void ProtocolSession::OnDeregister(protocol::Deregister deregister, ReplyFn& done) {
  auto state = state_;
  std::string peer = peer_;
  ServiceStats* stats = &services_.stats;
  TracingService* tracing = &services_.tracing;
  services_.deregistration.Deregister(
      user(), std::move(deregister.password),
      [state, peer, stats, tracing, done = std::move(done)](DeregisterOutcome o) {
        switch (o.status) {
          case DeregisterStatus::kRemoved: {
            std::string u;
            {
              std::lock_guard lock(state->mu);
              if (state->phase == Phase::kLoggedIn) u = state->user;
              state->phase = Phase::kClosed;
            }
            spdlog::info("a user from {} withdrew consent; the account is removed", peer);
            if (!u.empty()) tracing->SessionEnded(u, peer, /*logged_out=*/true);
            return done(One(protocol::DeregisterOk{}, true));
          }
          case DeregisterStatus::kWrongPassword:
            return done(One(protocol::WrongPassword{
                static_cast<std::uint8_t>(std::min<std::uint32_t>(o.attempts_left, 255))}));
          case DeregisterStatus::kBlocked:
            return done(One(protocol::Blocked{ClampU32(o.seconds)}, true));
          case DeregisterStatus::kStillBlocked:
            return done(One(protocol::StillBlocked{ClampU32(o.seconds)}, true));
          case DeregisterStatus::kBusy:
            return done(One(protocol::Busy{kBusyRetryMs}));
          case DeregisterStatus::kError:
            ++stats->internal_errors;
            spdlog::error("deregistration from {} failed: {}", peer, ForLog(o.error));
            return done(One(protocol::Error{ErrorCode::kInternal, "internal error; retry later"}));
        }
      });
}

void ProtocolSession::OnLogout(ReplyFn& done) {
  std::string u;
  {
    std::lock_guard lock(state_->mu);
    if (state_->phase == Phase::kLoggedIn) u = state_->user;
    state_->phase = Phase::kClosed;
  }
  upload_.Reset();
  if (!u.empty()) services_.tracing.SessionEnded(u, peer_, /*logged_out=*/true);
  done(One(protocol::LogoutOk{}, true));
}

}  // namespace bluetrace::service
