// ClientSession: the client's end of its one TLS connection to the reporting server, for
// ClientController. It settles the server's identity (CA verification, or trust on first
// use against the known-servers file), says Hello, and then carries request/reply pairs
// under the rules that keep the two sides in step:
//  - every reply is awaited at most `timeout`; a timeout ends the connection, since a late
//    reply would otherwise be taken for the answer to the next request;
//  - a failed send, a closed connection or an Error after which the server closes ends it
//    too, and every later call reports why ("the server closed the connection", "... did
//    not answer within N s (timed out)") as kUnavailable instead of hanging;
//  - Busy and RateLimited are retried as service::RetryPolicy says (CallRetryingBusy),
//    waiting through the injected ClientEnv::sleep.
// Not thread-safe: ClientController serialises all use under its connection mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bluetrace/net/client_connection.hpp"
#include "bluetrace/net/client_controller.hpp"
#include "bluetrace/protocol/messages.hpp"
#include "bluetrace/service/client_controller.hpp"
#include "bluetrace/store/device_tokens.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::net {

using service::BeaconSink;
using service::ClientController;
using service::ClientLoginResult;
using service::ClientLoginStatus;
using service::ClientOptions;
using service::ConnectionLostSink;
using service::ServerIdentity;
using service::TrustPrompt;

class ClientSession {
 public:
  // `options` and `env` (and what it refers to) must outlive the session.
  ClientSession(const ClientOptions& options, const ClientEnv& env)
      : options_(options), env_(env) {}
  ~ClientSession() { Close(util::FailedPrecondition("not connected to the server")); }
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Connects, checks the server's identity (see ClientController::Connect) and says Hello.
  // kFailedPrecondition when already open; the connection's, the known-servers file's and
  // the TOFU decision's errors (kPermissionDenied); kUnavailable when Hello is refused.
  util::Result<ServerIdentity> Open(const TrustPrompt& trust);

  bool is_open() const { return conn_ != nullptr; }
  // OK while open; else why not (kUnavailable after a loss, kFailedPrecondition before
  // the first Open or after Close).
  util::Status Usable() const;

  util::Status Send(const protocol::Message& m);
  // One request and its reply. A RateLimited reply (version 2) is returned as
  // Error{rate_limited}, so callers handle one form.
  util::Result<protocol::Message> Call(const protocol::Message& m);
  // Call, retried while the server answers Busy or RateLimited and the retry policy says
  // to wait and retry (service::RetryWait); the last answer is returned when it persists.
  util::Result<protocol::Message> CallRetryingBusy(const protocol::Message& m);
  // After `reply` to try number `attempt` (0: the first): waits as the retry policy says
  // and returns true, or returns false at once when it is not to be retried.
  bool WaitBeforeRetry(const protocol::Message& reply, int attempt);
  // Between requests: notices, without waiting, a server that closed the connection (a
  // stop, an idle deadline's Error{timeout}) or spoke out of turn, and ends the connection
  // then (kUnavailable, as Call reports a loss). OK when nothing has arrived, and when what
  // arrived held no message (the connection stays usable). Usable()'s error when closed.
  util::Status CheckIdle();
  // Ends the connection after a reply that makes no sense for `request`.
  util::Status Unexpected(const protocol::Message& reply, std::string_view request);
  // Closes the connection (if open); later calls report `reason`.
  void Close(util::Status reason);
  // Logout with a short timeout, then Close: for the controller's destructor.
  void LogoutQuietly();

  // The protocol version agreed in Hello (1 or 2).
  std::uint16_t version() const { return version_; }
  // The device token this device holds for `user` on this server (protocol version 2),
  // or empty: none, or no place to keep one (a file that cannot be read is logged).
  std::string DeviceToken(const std::string& user) const;
  // Keeps a token the server issued; a failure is logged (the login stands).
  void RememberDeviceToken(const std::string& user, std::string_view token);

  std::uint32_t max_frame_bytes() const { return max_frame_bytes_; }
  std::uint64_t max_upload_bytes() const { return max_upload_bytes_; }
  // HelloOk's flags (version 3; 0 before).
  std::uint8_t hello_flags() const { return hello_flags_; }
  // When the last request was sent (the clock's steady time), for idle pings.
  std::chrono::steady_clock::time_point last_request() const { return last_request_; }

 private:
  std::chrono::milliseconds Timeout() const;
  util::Result<protocol::Message> CallRaw(const protocol::Message& m);
  static util::Result<protocol::Message> Normalize(util::Result<protocol::Message> reply);
  util::Status CheckTrustOnFirstUse(ServerIdentity& identity, const TrustPrompt& trust);
  // The known-servers file (the option, or the user's default); the device-token file
  // lives beside it, so tests that set one keep both in their temporary directory.
  util::Result<std::string> KnownServersPath() const;
  std::optional<store::DeviceTokens> DeviceTokenFile() const;
  // Ends the connection after `why`; returns what later calls report. `timed_out` (from
  // ClientConnection::timed_out(), not the message) picks the "did not answer" wording.
  util::Status Lose(const util::Status& why, bool timed_out);

  const ClientOptions& options_;
  const ClientEnv& env_;
  std::unique_ptr<net::ClientConnection> conn_;
  util::Status lost_ = util::FailedPrecondition("not connected to the server");
  std::uint16_t version_ = protocol::kMinProtocolVersion;
  std::uint32_t max_frame_bytes_ = protocol::kDefaultMaxFrameBytes;
  std::uint64_t max_upload_bytes_ = 0;
  std::uint8_t hello_flags_ = 0;
  std::chrono::steady_clock::time_point last_request_;
};

}  // namespace bluetrace::net
