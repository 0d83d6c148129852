#include "client_session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <thread>
#include <utility>

#include "bluetrace/net/tls_context.hpp"
#include "bluetrace/service/client_rules.hpp"
#include "bluetrace/store/known_servers.hpp"
#include "bluetrace/version.hpp"

namespace bluetrace::net {

using namespace std::chrono_literals;
using protocol::Message;
using util::Result;
using util::Status;

namespace {

// The logout at exit must not hold up the program for long.
constexpr auto kShutdownTimeout = 2000ms;
// CheckIdle reads only what has arrived; this bounds the wait for the rest of a frame
// whose first bytes are in (the connection mutex is held meanwhile).
constexpr auto kIdleReadTimeout = 200ms;

// Errors after which the server closes the connection (docs/PROTOCOL.md).
bool ServerCloses(protocol::ErrorCode code) {
  using protocol::ErrorCode;
  return code == ErrorCode::kBadFrame || code == ErrorCode::kUnsupportedVersion ||
         code == ErrorCode::kUnknownMessage || code == ErrorCode::kTimeout;
}

}  // namespace

std::chrono::milliseconds ClientSession::Timeout() const {
  return std::chrono::seconds(std::max<std::uint32_t>(options_.timeout_seconds, 1));
}

Result<std::string> ClientSession::KnownServersPath() const {
  if (!options_.known_servers_file.empty()) return options_.known_servers_file;
  return store::DefaultKnownServersPath();
}

std::optional<store::DeviceTokens> ClientSession::DeviceTokenFile() const {
  auto known = KnownServersPath();
  if (!known.ok()) return std::nullopt;
  return store::DeviceTokens(env_.fs, store::DeviceTokensPathBeside(*known));
}

std::string ClientSession::DeviceToken(const std::string& user) const {
  auto file = DeviceTokenFile();
  if (!file) return {};
  auto token =
      file->Lookup(store::KnownServerKey(options_.server_host, options_.server_port), user);
  if (!token.ok()) {
    spdlog::warn("device tokens not read: {}", token.status().ToString());
    return {};
  }
  return token->value_or("");
}

void ClientSession::RememberDeviceToken(const std::string& user, std::string_view token) {
  auto file = DeviceTokenFile();
  if (!file) return;
  Status st = file->Remember(store::KnownServerKey(options_.server_host, options_.server_port),
                             user, token);
  if (!st.ok()) spdlog::warn("device token not saved: {}", st.ToString());
}

Status ClientSession::CheckTrustOnFirstUse(ServerIdentity& identity, const TrustPrompt& trust) {
  BLUETRACE_ASSIGN_OR_RETURN(const std::string path, KnownServersPath());
  store::KnownServers known(env_.fs, path);
  const std::string key = store::KnownServerKey(options_.server_host, options_.server_port);
  BLUETRACE_ASSIGN_OR_RETURN(auto remembered, known.Lookup(key));
  const std::string& fp = identity.fingerprint;
  if (remembered) {
    if (*remembered == fp) {
      identity.known = true;
      return Status::Ok();
    }
    return util::PermissionDenied("the server's certificate changed (was " + *remembered +
                                  ", now " + fp + "); if this is expected, remove its line from " +
                                  path);
  }
  if (!trust) {
    return util::PermissionDenied("unknown server certificate " + fp +
                                  "; pass --ca-file <server certificate> or run interactively "
                                  "to confirm it");
  }
  if (!trust(key, fp)) {
    return util::PermissionDenied("the certificate " + fp + " of " + key + " was not accepted");
  }
  return known.Remember(key, fp);
}

Result<ServerIdentity> ClientSession::Open(const TrustPrompt& trust) {
  if (conn_) return util::FailedPrecondition("already connected");
  net::TlsClientOptions tls;
  tls.ca_file = options_.ca_file;
  tls.expected_host = options_.server_host;
  net::ClientConnectOptions co;
  co.timeout = Timeout();
  co.close_timeout = std::min<std::chrono::milliseconds>(Timeout(), 1000ms);
  BLUETRACE_ASSIGN_OR_RETURN(auto context, net::MakeClientContext(tls, env_.fs));
  BLUETRACE_ASSIGN_OR_RETURN(
      auto c, net::ClientConnection::Connect(options_.server_host, options_.server_port,
                                             std::move(context), tls, co));
  ServerIdentity identity;
  identity.fingerprint = c->peer_fingerprint();
  identity.verified_by_ca = !options_.ca_file.empty();
  // Nothing is sent before the server's identity is settled.
  if (!identity.verified_by_ca) BLUETRACE_RETURN_IF_ERROR(CheckTrustOnFirstUse(identity, trust));
  auto hello = c->Call(protocol::Hello{protocol::kMinProtocolVersion, protocol::kProtocolVersion,
                                       std::string("bluetrace-client ") + kVersion},
                       Timeout());
  if (!hello.ok()) return hello.status().WithContext("saying hello to the server");
  if (auto* e = std::get_if<protocol::Error>(&*hello)) {
    return util::Unavailable("the server refused the session: " + e->message);
  }
  auto* ok = std::get_if<protocol::HelloOk>(&*hello);
  if (ok == nullptr) {
    return util::Unavailable("the server answered Hello with " +
                             std::string(protocol::MessageName(protocol::TypeOf(*hello))));
  }
  if (ok->version < protocol::kMinProtocolVersion || ok->version > protocol::kProtocolVersion) {
    return util::Unavailable("the server chose protocol version " + std::to_string(ok->version) +
                             ", which this client does not speak");
  }
  version_ = ok->version;
  max_frame_bytes_ = ok->max_frame_bytes;
  max_upload_bytes_ = ok->max_upload_bytes;
  hello_flags_ = ok->flags;
  conn_ = std::move(c);
  lost_ = Status::Ok();
  last_request_ = env_.clock.SteadyNow();
  return identity;
}

Status ClientSession::Usable() const { return conn_ ? Status::Ok() : lost_; }

Status ClientSession::Lose(const Status& why, bool timed_out) {
  std::string text;
  if (timed_out) {
    text = "the server did not answer within " + std::to_string(Timeout().count() / 1000) +
           " s (timed out); the connection was closed";
  } else if (why.code() == util::StatusCode::kUnavailable ||
             why.code() == util::StatusCode::kFailedPrecondition) {
    text = "the server closed the connection";
  } else {
    text = "the connection to the server failed (" + why.ToString() + ") and was closed";
  }
  spdlog::debug("connection lost: {}", why.ToString());
  Close(util::Unavailable(text));
  return lost_;
}

void ClientSession::Close(Status reason) {
  if (conn_) conn_->Close();
  conn_.reset();
  lost_ = std::move(reason);
}

Status ClientSession::Send(const Message& m) {
  BLUETRACE_RETURN_IF_ERROR(Usable());
  Status st = conn_->Send(m);
  last_request_ = env_.clock.SteadyNow();
  if (!st.ok() && !conn_->is_open()) return Lose(st, conn_->timed_out());
  return st;
}

Result<Message> ClientSession::CallRaw(const Message& m) {
  BLUETRACE_RETURN_IF_ERROR(Usable());
  auto reply = conn_->Call(m, Timeout());
  last_request_ = env_.clock.SteadyNow();
  if (!reply.ok()) return Lose(reply.status(), conn_->timed_out());
  if (auto* e = std::get_if<protocol::Error>(&*reply); e != nullptr && ServerCloses(e->code)) {
    return Lose(util::Unavailable("closed by the server: " + e->message), /*timed_out=*/false);
  }
  return reply;
}

// Version 2's RateLimited reaches callers as the Error{rate_limited} of version 1, once
// its retries are spent, so that they handle one form.
Result<Message> ClientSession::Normalize(Result<Message> reply) {
  if (reply.ok()) {
    if (auto* limited = std::get_if<protocol::RateLimited>(&*reply)) {
      return Message(protocol::Error{protocol::ErrorCode::kRateLimited, limited->message});
    }
  }
  return reply;
}

Result<Message> ClientSession::Call(const Message& m) { return Normalize(CallRaw(m)); }

bool ClientSession::WaitBeforeRetry(const Message& reply, int attempt) {
  const auto wait = service::RetryWait(env_.retry, reply, attempt, env_.random);
  if (!wait) return false;
  spdlog::debug("{}: retrying in {} ms", protocol::MessageName(protocol::TypeOf(reply)),
                wait->count());
  env_.sleep(*wait);
  return true;
}

Result<Message> ClientSession::CallRetryingBusy(const Message& m) {
  for (int attempt = 0;; ++attempt) {
    auto reply = CallRaw(m);
    if (!reply.ok() || !WaitBeforeRetry(*reply, attempt)) return Normalize(std::move(reply));
  }
}

Status ClientSession::CheckIdle() {
  BLUETRACE_RETURN_IF_ERROR(Usable());
  if (!conn_->HasInput()) return Status::Ok();
  auto said = conn_->Receive(std::min<std::chrono::milliseconds>(Timeout(), kIdleReadTimeout));
  if (!said.ok()) {
    // A TLS record without a message (e.g. a session ticket), or a frame still arriving:
    // the connection is fine, and a partial frame stays in the decoder.
    if (conn_->is_open() && conn_->timed_out()) return Status::Ok();
    return Lose(said.status(), /*timed_out=*/false);
  }
  if (auto* e = std::get_if<protocol::Error>(&*said)) {
    return Lose(util::Unavailable("closed by the server: " + e->message), /*timed_out=*/false);
  }
  Close(util::Unavailable("the server sent " +
                          std::string(protocol::MessageName(protocol::TypeOf(*said))) +
                          " unasked; the connection was closed"));
  return lost_;
}

Status ClientSession::Unexpected(const Message& reply, std::string_view request) {
  Close(util::Unavailable("the server answered " + std::string(request) + " with " +
                          std::string(protocol::MessageName(protocol::TypeOf(reply))) +
                          "; the connection was closed"));
  return lost_;
}

void ClientSession::LogoutQuietly() {
  if (!conn_) return;
  auto bye = conn_->Call(protocol::Logout{},
                         std::min<std::chrono::milliseconds>(Timeout(), kShutdownTimeout));
  if (!bye.ok()) spdlog::debug("logout at exit: {}", bye.status().ToString());
  Close(util::FailedPrecondition("not connected to the server"));
}

}  // namespace bluetrace::net
