// ProtocolSession: the server side of one connection, the state machine of
// docs/PROTOCOL.md ("Session"). Private to the service layer; created by
// ReportingService::NewSession. It maps each message to a use case (AuthService,
// TracingService) and each outcome to a reply, and decides nothing else.
//
//   kAwaitHello --Hello--> kAwaitLogin --Welcome--> kLoggedIn --Logout--> kClosed
//
// Blocking work (Argon2, fsyncs, report writes) runs on the service's worker pools; the
// jobs hold the session's State through a shared_ptr, so a connection that closes while a
// job runs is harmless. Handle() is called one message at a time (session.hpp).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "bluetrace/protocol/upload.hpp"
#include "bluetrace/service/account_removal.hpp"
#include "bluetrace/service/auth_service.hpp"
#include "bluetrace/service/service_stats.hpp"
#include "bluetrace/service/session.hpp"
#include "bluetrace/service/tracing_service.hpp"

namespace bluetrace::service {

// The use cases a session calls; they outlive every session.
struct SessionServices {
  AuthService& auth;
  TracingService& tracing;
  ServiceStats& stats;
  DeregistrationService& deregistration;
};

// What HelloOk announces and the upload assembler enforces.
struct SessionLimits {
  std::uint32_t max_frame_bytes = 0;
  std::uint64_t max_upload_bytes = 0;
  bool require_code = false;  // upload.require_code: HelloOk's flag, uploads need a code
};

class ProtocolSession final : public Session {
 public:
  ProtocolSession(SessionServices services, SessionLimits limits, std::string peer_address);
  ~ProtocolSession() override;

  void Handle(protocol::Message message, ReplyFn done) override;
  bool logged_in() const override;
  void Closed() override;

 private:
  enum class Phase { kAwaitHello, kAwaitLogin, kLoggedIn, kClosed };

  struct State {
    std::mutex mu;
    Phase phase = Phase::kAwaitHello;
    std::string user;           // canonical, once logged in
    std::uint16_t version = 0;  // agreed in Hello
  };

  void OnHello(const protocol::Hello& hello, ReplyFn& done);
  // Login, and DeviceLogin (version 2; `device_login`, `device_token` may be empty).
  void OnLogin(std::string user, util::SecretString password, util::SecretString device_token,
               bool device_login, ReplyFn& done);
  void OnRegister(protocol::Register reg, ReplyFn& done);
  void OnTempIdRequest(ReplyFn& done);
  // UploadBegin or CodedUploadBegin (`coded`).
  void OnUploadBegin(std::uint64_t total_bytes, util::SecretString code, bool coded, ReplyFn& done);
  void OnUploadEnd(ReplyFn& done);
  void OnDeregister(protocol::Deregister deregister, ReplyFn& done);
  void OnLogout(ReplyFn& done);
  Phase phase() const;
  std::uint16_t version() const;
  std::string user() const;
  // Replies Error{code, text}; closes the connection when `close`.
  void Refuse(ReplyFn& done, protocol::ErrorCode code, std::string text, bool close);
  void RejectUpload(ReplyFn& done, const util::Status& st);

  SessionServices services_;
  const SessionLimits limits_;
  const std::string peer_;
  std::shared_ptr<State> state_;
  protocol::UploadAssembler upload_;
  // An upload failed and its Error was sent: its remaining chunks and its UploadEnd are
  // taken without a reply, so the client gets exactly one answer per upload.
  bool upload_failed_ = false;
  // The code of the upload under way (CodedUploadBegin), until its UploadEnd.
  util::SecretString upload_code_;
};

}  // namespace bluetrace::service
