#include "protocol_session.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/service/contact_check.hpp"
#include "bluetrace/util/plural.hpp"
#include "bluetrace/version.hpp"

namespace bluetrace::service {

using protocol::ErrorCode;
using protocol::Message;

namespace {

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

}  // namespace

ProtocolSession::ProtocolSession(ReportingService& service, std::string peer_address)
    : service_(service),
      peer_(std::move(peer_address)),
      state_(std::make_shared<State>()),
      upload_(service.config_.max_upload_bytes) {}

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
  if (!vanished.empty()) {
    // A client that disappears counts as logged out (docs/PROTOCOL.md, "The session").
    spdlog::info("a user from {} disconnected without logout; logged out", peer_);
    service_.env_.console.Print(vanished + " logout\n");
  }
}

void ProtocolSession::Refuse(ReplyFn& done, ErrorCode code, std::string text, bool close) {
  if (code == ErrorCode::kUnexpectedMessage) ++service_.stats_.protocol_errors;
  done(One(protocol::Error{code, std::move(text)}, close));
}

void ProtocolSession::RefuseRateLimited(ReplyFn& done, const std::string& what,
                                        std::chrono::milliseconds wait) {
  const auto seconds = (wait.count() + 999) / 1000;
  std::string text = what + "; retry in " + std::to_string(seconds) + " s";
  if (version() >= 2) {
    done(One(protocol::RateLimited{ClampU32(wait.count()), std::move(text)}));
  } else {
    Refuse(done, ErrorCode::kRateLimited, std::move(text), false);
  }
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
    case protocol::MessageType::kUploadChunk: {
      if (p != Phase::kLoggedIn) break;
      const bool begin = type == protocol::MessageType::kUploadBegin;
      if (begin) upload_failed_ = false;
      if (upload_failed_) {
        // The rest of an upload that already got its one answer (an Error).
        done(SessionReply{});
        return;
      }
      util::Status st = begin ? upload_.Begin(std::get<protocol::UploadBegin>(message))
                              : upload_.Add(std::get<protocol::UploadChunk>(message));
      if (!st.ok()) {
        ++service_.stats_.uploads_rejected;
        upload_.Reset();
        upload_failed_ = st.code() != util::StatusCode::kFailedPrecondition;
        Refuse(done,
               st.code() == util::StatusCode::kResourceExhausted    ? ErrorCode::kTooLarge
               : st.code() == util::StatusCode::kFailedPrecondition ? ErrorCode::kUnexpectedMessage
                                                                    : ErrorCode::kInvalidArgument,
               st.message(), false);
        return;
      }
      // Begin and chunks need no answer of their own; the transport sends nothing.
      done(SessionReply{});
      return;
    }
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
  ok.max_frame_bytes = service_.config_.max_frame_bytes;
  ok.max_upload_bytes = service_.config_.max_upload_bytes;
  done(One(std::move(ok)));
}

void ProtocolSession::OnLogin(std::string user, util::SecretString password,
                              util::SecretString device_token, bool device_login, ReplyFn& done) {
  std::chrono::milliseconds wait{0};
  if (!service_.login_limiter_->Allow(peer_, &wait)) {
    ++service_.stats_.rate_limited_logins;
    RefuseRateLimited(done, "too many login attempts from this address", wait);
    return;
  }
  const bool v2 = device_login;  // DeviceLogin is answered DeviceWelcome, Login Welcome
  LoginRequest request;
  request.user = std::move(user);
  request.password = std::move(password);
  request.device_token = std::move(device_token);
  request.issue_device_token = v2;
  request.peer = peer_;
  auto state = state_;
  std::string peer = peer_;
  ReportingService* svc = &service_;
  service_.auth_->Login(
      std::move(request), [state, peer, v2, svc, done = std::move(done)](LoginOutcome o) {
        switch (o.status) {
          case LoginStatus::kWelcome: {
            if (!o.warning.ok()) spdlog::warn("login from {}: {}", peer, o.warning.ToString());
            {
              std::lock_guard lock(state->mu);
              if (state->phase != Phase::kAwaitLogin) return done(SessionReply{});
              state->phase = Phase::kLoggedIn;
              state->user = o.user;
            }
            spdlog::info("a user logged in from {}", peer);
            if (v2) {
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
            svc->login_limiter_->Refund(peer);  // nothing was checked: the retry is free
            return done(One(protocol::Busy{kBusyRetryMs}));
          case LoginStatus::kError:
            ++svc->stats_.internal_errors;
            spdlog::error("login from {} failed internally: {}", peer, o.error.ToString());
            return done(One(protocol::Error{ErrorCode::kInternal, "internal error; retry later"}));
        }
      });
}

void ProtocolSession::OnRegister(protocol::Register reg, ReplyFn& done) {
  std::chrono::milliseconds wait{0};
  if (!service_.login_limiter_->Allow(peer_, &wait)) {
    ++service_.stats_.rate_limited_logins;
    RefuseRateLimited(done, "too many attempts from this address", wait);
    return;
  }
  std::string peer = peer_;
  ReportingService* svc = &service_;
  service_.auth_->Register(
      std::move(reg.user), std::move(reg.password), peer_,
      [peer, svc, done = std::move(done)](RegisterOutcome o) {
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
            svc->login_limiter_->Refund(peer);  // nothing was done: the retry is free
            return done(One(protocol::Busy{kBusyRetryMs}));
          case RegisterStatus::kError:
            ++svc->stats_.internal_errors;
            spdlog::error("registration from {} failed: {}", peer, o.error.ToString());
            return done(One(protocol::Error{ErrorCode::kInternal, "internal error; retry later"}));
        }
      });
}

void ProtocolSession::OnTempIdRequest(ReplyFn& done) {
  const std::string u = user();
  std::chrono::milliseconds wait{0};
  if (!service_.tempid_limiter_->Allow(u, &wait)) {
    ++service_.stats_.rate_limited_tempids;
    RefuseRateLimited(done, "too many TempID requests", wait);
    return;
  }
  ReportingService& s = service_;
  auto job = std::make_shared<ReplyFn>(std::move(done));
  const bool queued = s.store_pool_->TrySubmit([&s, u, job] {
    const std::int64_t start = s.env_.clock.NowUnixSeconds();
    const std::int64_t expiry = start + s.config_.tempid_lifetime_seconds - 1;
    auto record = s.tempids_->Issue(u, start, expiry, s.env_.random);
    if (!record.ok()) {
      ++s.stats_.internal_errors;
      spdlog::error("issuing a TempID for {} failed: {}", u, record.status().ToString());
      return (*job)(One(protocol::Error{ErrorCode::kInternal, "could not issue a TempID"}));
    }
    ++s.stats_.tempids_issued;
    s.env_.console.Print("user: " + u + "\nTempID:\n" + record->id.ToString() + "\n");
    (*job)(One(protocol::TempIdResponse{record->id, record->start, record->expiry}));
  });
  if (!queued) (*job)(One(protocol::Busy{kBusyRetryMs}));
}

void ProtocolSession::OnUploadEnd(ReplyFn& done) {
  auto text = upload_.Finish();
  if (!text.ok()) {
    ++service_.stats_.uploads_rejected;
    Refuse(done,
           text.status().code() == util::StatusCode::kFailedPrecondition
               ? ErrorCode::kUnexpectedMessage
               : ErrorCode::kInvalidArgument,
           text.status().message(), false);
    return;
  }
  const std::string u = user();
  ReportingService& s = service_;
  auto job = std::make_shared<std::pair<std::string, ReplyFn>>(std::move(*text), std::move(done));
  const bool queued = s.store_pool_->TrySubmit([&s, u, job] {
    auto& [log_text, reply] = *job;
    auto entries = protocol::ParseContactLog(log_text, "contact log", s.config_.time_mode,
                                             s.config_.max_upload_entries);
    if (!entries.ok()) {
      ++s.stats_.uploads_rejected;
      return reply(
          One(protocol::Error{entries.status().code() == util::StatusCode::kResourceExhausted
                                  ? ErrorCode::kTooLarge
                                  : ErrorCode::kInvalidArgument,
                              entries.status().message()}));
    }
    const std::int64_t now = s.env_.clock.NowUnixSeconds();
    const auto count = static_cast<std::uint32_t>(entries->size());
    ContactCheckResult result =
        CheckContacts(u, now, std::move(*entries),
                      [&s](const protocol::TempId& id) { return s.tempids_->Lookup(id); });
    auto report = s.reports_->Write(u, now, FormatReport(result, s.config_.time_mode));
    if (!report.ok()) {
      ++s.stats_.internal_errors;
      spdlog::error("writing the contact report of {} failed: {}", u, report.status().ToString());
      return reply(One(protocol::Error{ErrorCode::kInternal, "could not store the contact log"}));
    }
    util::Status audited =
        s.Audit("contact_check", {{"user", u},
                                  {"entries", std::to_string(count)},
                                  {"matched", std::to_string(result.matched)},
                                  {"mismatched", std::to_string(result.mismatched)},
                                  {"unknown", std::to_string(result.unknown)},
                                  {"report", *report}});
    if (!audited.ok()) {
      // Fail closed: the client is told the upload failed and will send it again.
      ++s.stats_.internal_errors;
      return reply(One(protocol::Error{ErrorCode::kInternal, "could not store the contact log"}));
    }
    ++s.stats_.uploads;
    s.stats_.entries_matched += result.matched;
    s.stats_.entries_mismatched += result.mismatched;
    s.stats_.entries_unknown += result.unknown;
    s.env_.console.Print(FormatConsoleLines(result, s.config_.time_mode));
    spdlog::info("contact log from {}: {}, {} matched, {} mismatched, {} unknown; report {}", u,
                 util::Count(count, "entry", "entries"), result.matched, result.mismatched,
                 result.unknown, *report);
    reply(One(protocol::UploadAck{count}));
  });
  if (!queued) (*job).second(One(protocol::Busy{kBusyRetryMs}));
}

void ProtocolSession::OnLogout(ReplyFn& done) {
  std::string u;
  {
    std::lock_guard lock(state_->mu);
    if (state_->phase == Phase::kLoggedIn) u = state_->user;
    state_->phase = Phase::kClosed;
  }
  upload_.Reset();
  if (!u.empty()) {
    spdlog::info("{} logged out", u);
    service_.env_.console.Print(u + " logout\n");
  }
  done(One(protocol::LogoutOk{}, true));
}

}  // namespace bluetrace::service
