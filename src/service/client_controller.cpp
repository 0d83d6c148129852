#include "bluetrace/service/client_controller.hpp"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

#include "bluetrace/net/beacon_endpoint.hpp"
#include "bluetrace/net/client_connection.hpp"
#include "bluetrace/protocol/upload.hpp"
#include "bluetrace/store/contact_log_store.hpp"
#include "bluetrace/store/known_servers.hpp"
#include "bluetrace/util/thread_annotations.hpp"
#include "bluetrace/version.hpp"

namespace bluetrace::service {
namespace {

using namespace std::chrono_literals;
using protocol::Message;
using util::Result;
using util::Status;

constexpr int kBusyRetries = 3;
// The background thread wakes this often to look at its (injected) clock.
constexpr auto kTick = 250ms;
constexpr auto kPruneInterval = 2s;
// After a failed background renewal, wait this long before the next try.
constexpr auto kRenewRetry = 10s;
// The destructor's logout must not hold up the program's exit for long.
constexpr auto kShutdownTimeout = 2000ms;

bool IsIpLiteral(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// Errors after which the server closes the connection (docs/PROTOCOL.md).
bool ServerCloses(protocol::ErrorCode code) {
  using protocol::ErrorCode;
  return code == ErrorCode::kBadFrame || code == ErrorCode::kUnsupportedVersion ||
         code == ErrorCode::kUnknownMessage || code == ErrorCode::kTimeout;
}

Status ErrorToStatus(const protocol::Error& e) {
  using protocol::ErrorCode;
  switch (e.code) {
    case ErrorCode::kInvalidArgument:
      return util::InvalidArgument(e.message);
    case ErrorCode::kAlreadyExists:
      return util::AlreadyExists(e.message);
    case ErrorCode::kNotFound:
      return util::NotFound(e.message);
    case ErrorCode::kRegistrationDisabled:
    case ErrorCode::kUnexpectedMessage:
      return util::FailedPrecondition(e.message);
    case ErrorCode::kTooLarge:
      return util::ResourceExhausted(e.message);
    case ErrorCode::kRateLimited:
    case ErrorCode::kBusy:
      return util::Unavailable(e.message);
    default:
      return util::Unavailable("the server reported an error: " + e.message);
  }
}

// The renewal margin, at most half the TempID's lifetime so that a short lifetime cannot
// make every TempID due for renewal the moment it arrives.
bool NeedsRenewal(const protocol::TempIdRecord& r, std::int64_t now, std::int64_t margin) {
  const std::int64_t effective = std::min(margin, (r.expiry - r.start + 1) / 2);
  return now > r.expiry - effective;
}

class Controller final : public ClientController {
 public:
  Controller(const ClientOptions& options, util::Clock& clock)
      : options_(options), clock_(clock), fs_(store::PosixFileSystem::Instance()) {}

  ~Controller() override {
    StopBackground();
    {
      util::MutexLock lock(mu_);
      if (conn_ && logged_in_) {
        auto bye = conn_->Call(protocol::Logout{},
                               std::min<std::chrono::milliseconds>(Timeout(), kShutdownTimeout));
        if (!bye.ok()) spdlog::debug("logout at exit: {}", bye.status().ToString());
      }
      if (conn_) conn_->Close();
      conn_.reset();
    }
    if (endpoint_) endpoint_->Stop();
  }

  Result<ServerIdentity> Connect(const TrustPrompt& trust) override;
  Result<ClientLoginResult> Login(const std::string& user,
                                  const util::SecretString& password) override;
  Status Register(const std::string& user, const util::SecretString& password) override;
  Result<protocol::TempIdRecord> DownloadTempId() override {
    util::MutexLock lock(mu_);
    return FetchTempIdLocked();
  }
  Result<UploadResult> UploadContactLog() override;
  Result<protocol::Beacon> SendBeacon(const std::string& ip, std::uint16_t port) override;
  Status Logout() override;

  void SetBeaconSink(BeaconSink sink) override {
    util::MutexLock lock(sink_mu_);
    sink_ = std::move(sink);
  }
  std::uint16_t udp_port() const override { return endpoint_ ? endpoint_->port() : 0; }
  std::uint64_t dropped_datagrams() const override { return endpoint_ ? endpoint_->dropped() : 0; }

 private:
  std::chrono::milliseconds Timeout() const {
    return std::chrono::seconds(std::max<std::uint32_t>(options_.timeout_seconds, 1));
  }

  Status OpenLocalParts();
  Status CheckTrustOnFirstUse(ServerIdentity& identity, const TrustPrompt& trust);
  void OnBeacon(const protocol::Beacon& beacon);

  // OK when there is a connection; else why not (kUnavailable after a loss).
  Status UsableLocked() const REQUIRES(mu_);
  // Ends the connection after `why` and returns the Status every later call reports.
  Status LoseLocked(const Status& why) REQUIRES(mu_);
  // Closes the connection on purpose; later calls report `reason`.
  void CloseLocked(Status reason) REQUIRES(mu_);
  Status SendLocked(const Message& m) REQUIRES(mu_);
  Result<Message> CallLocked(const Message& m) REQUIRES(mu_);
  // CallLocked, retried with backoff while the server answers Busy.
  Result<Message> CallRetryingBusyLocked(const Message& m) REQUIRES(mu_);
  Status UnexpectedLocked(const Message& reply, std::string_view request) REQUIRES(mu_);
  Result<protocol::TempIdRecord> FetchTempIdLocked() REQUIRES(mu_);

  void StartBackground();
  void StopBackground();
  void BackgroundLoop();
  void Maintain();

  const ClientOptions options_;
  util::Clock& clock_;
  store::FileSystem& fs_;
  // Set by the first Connect (the front end's thread) before any other thread starts.
  std::unique_ptr<store::ContactLogStore> log_;
  std::unique_ptr<net::BeaconEndpoint> endpoint_;

  mutable util::Mutex mu_;  // the connection and the session's state
  std::unique_ptr<net::ClientConnection> conn_ GUARDED_BY(mu_);
  Status lost_ GUARDED_BY(mu_);  // why there is no connection, once there was one
  std::uint32_t max_frame_bytes_ GUARDED_BY(mu_) = protocol::kDefaultMaxFrameBytes;
  std::uint64_t max_upload_bytes_ GUARDED_BY(mu_) = 0;
  bool logged_in_ GUARDED_BY(mu_) = false;
  std::string user_ GUARDED_BY(mu_);
  std::optional<protocol::TempIdRecord> current_ GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point last_request_ GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point renew_not_before_ GUARDED_BY(mu_);
  std::uint64_t ping_nonce_ GUARDED_BY(mu_) = 0;

  util::Mutex sink_mu_;
  BeaconSink sink_ GUARDED_BY(sink_mu_);

  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool bg_stop_ = false;  // guarded by bg_mu_
  std::thread bg_;        // started and joined by the front end's thread only
  std::chrono::steady_clock::time_point last_prune_;  // the background thread's own
};

Status Controller::OpenLocalParts() {
  if (!log_) {
    store::ContactLogOptions o;
    o.dir = options_.data_dir;
    o.retention_seconds = options_.contact_retention_seconds;
    o.time_mode = options_.time_mode;
    o.max_entries = options_.max_contact_log_entries;
    auto log = store::ContactLogStore::Open(fs_, clock_, std::move(o));
    if (!log.ok()) return log.status();
    log_ = std::move(*log);
  }
  if (!endpoint_) {
    net::BeaconEndpointOptions o{options_.udp_bind_address, options_.udp_port, options_.time_mode};
    auto endpoint =
        net::BeaconEndpoint::Open(o, [this](const protocol::Beacon& b) { OnBeacon(b); });
    if (!endpoint.ok()) return endpoint.status();
    endpoint_ = std::move(*endpoint);
  }
  return Status::Ok();
}

Status Controller::CheckTrustOnFirstUse(ServerIdentity& identity, const TrustPrompt& trust) {
  std::string path = options_.known_servers_file;
  if (path.empty()) {
    auto d = store::DefaultKnownServersPath();
    if (!d.ok()) return d.status();
    path = *d;
  }
  store::KnownServers known(fs_, path);
  const std::string key = store::KnownServerKey(options_.server_host, options_.server_port);
  auto remembered = known.Lookup(key);
  if (!remembered.ok()) return remembered.status();
  const std::string& fp = identity.fingerprint;
  if (*remembered) {
    if (**remembered == fp) {
      identity.known = true;
      return Status::Ok();
    }
    return util::PermissionDenied("the server's certificate changed (was " + **remembered +
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

Result<ServerIdentity> Controller::Connect(const TrustPrompt& trust) {
  BLUETRACE_RETURN_IF_ERROR(OpenLocalParts());
  ServerIdentity identity;
  {
    util::MutexLock lock(mu_);
    if (conn_) return util::FailedPrecondition("already connected");
    net::TlsClientOptions tls;
    tls.ca_file = options_.ca_file;
    tls.expected_host = options_.server_host;
    net::ClientConnectOptions co;
    co.timeout = Timeout();
    co.close_timeout = std::min<std::chrono::milliseconds>(Timeout(), 1000ms);
    auto c = net::ClientConnection::Connect(options_.server_host, options_.server_port, tls, co);
    if (!c.ok()) return c.status();
    identity.fingerprint = (*c)->peer_fingerprint();
    identity.verified_by_ca = !options_.ca_file.empty();
    // Nothing is sent before the server's identity is settled.
    if (!identity.verified_by_ca) BLUETRACE_RETURN_IF_ERROR(CheckTrustOnFirstUse(identity, trust));
    auto hello = (*c)->Call(protocol::Hello{protocol::kProtocolVersion, protocol::kProtocolVersion,
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
    max_frame_bytes_ = ok->max_frame_bytes;
    max_upload_bytes_ = ok->max_upload_bytes;
    conn_ = std::move(*c);
    lost_ = Status::Ok();
    logged_in_ = false;
    last_request_ = clock_.SteadyNow();
  }
  StartBackground();
  return identity;
}

Status Controller::UsableLocked() const {
  if (conn_) return Status::Ok();
  if (!lost_.ok()) return lost_;
  return util::FailedPrecondition("not connected to the server");
}

Status Controller::LoseLocked(const Status& why) {
  std::string text;
  if (why.code() == util::StatusCode::kUnavailable &&
      why.message().find("timed out") != std::string::npos) {
    text = "the server did not answer within " + std::to_string(Timeout().count() / 1000) +
           " s (timed out); the connection was closed";
  } else if (why.code() == util::StatusCode::kUnavailable ||
             why.code() == util::StatusCode::kFailedPrecondition) {
    text = "the server closed the connection";
  } else {
    text = "the connection to the server failed (" + why.ToString() + ") and was closed";
  }
  spdlog::debug("connection lost: {}", why.ToString());
  CloseLocked(util::Unavailable(text));
  return lost_;
}

void Controller::CloseLocked(Status reason) {
  if (conn_) conn_->Close();
  conn_.reset();
  logged_in_ = false;
  lost_ = std::move(reason);
}

Status Controller::SendLocked(const Message& m) {
  BLUETRACE_RETURN_IF_ERROR(UsableLocked());
  Status st = conn_->Send(m);
  last_request_ = clock_.SteadyNow();
  if (!st.ok() && !conn_->is_open()) return LoseLocked(st);
  return st;
}

Result<Message> Controller::CallLocked(const Message& m) {
  BLUETRACE_RETURN_IF_ERROR(UsableLocked());
  auto reply = conn_->Call(m, Timeout());
  last_request_ = clock_.SteadyNow();
  // A reply that arrives after a timeout would be taken for the answer to the next
  // request, so a timeout ends the connection too.
  if (!reply.ok()) return LoseLocked(reply.status());
  if (auto* e = std::get_if<protocol::Error>(&*reply); e != nullptr && ServerCloses(e->code)) {
    return LoseLocked(util::Unavailable("closed by the server: " + e->message));
  }
  return reply;
}

Result<Message> Controller::CallRetryingBusyLocked(const Message& m) {
  for (int attempt = 0;; ++attempt) {
    auto reply = CallLocked(m);
    if (!reply.ok() || attempt == kBusyRetries) return reply;
    auto* busy = std::get_if<protocol::Busy>(&*reply);
    if (busy == nullptr) return reply;
    const auto wait =
        std::chrono::milliseconds(std::clamp<std::uint32_t>(busy->retry_after_ms, 50, 1000)) *
        (attempt + 1);
    std::this_thread::sleep_for(wait);
  }
}

Status Controller::UnexpectedLocked(const Message& reply, std::string_view request) {
  const std::string text = "the server answered " + std::string(request) + " with " +
                           std::string(protocol::MessageName(protocol::TypeOf(reply))) +
                           "; the connection was closed";
  CloseLocked(util::Unavailable(text));
  return lost_;
}

Result<ClientLoginResult> Controller::Login(const std::string& user,
                                            const util::SecretString& password) {
  util::MutexLock lock(mu_);
  BLUETRACE_RETURN_IF_ERROR(UsableLocked());
  if (logged_in_) return util::FailedPrecondition("already logged in as " + user_);
  auto reply = CallRetryingBusyLocked(protocol::Login{user, util::SecretString(password.view())});
  if (!reply.ok()) return reply.status();
  ClientLoginResult out;
  if (auto* w = std::get_if<protocol::Welcome>(&*reply)) {
    out.status = ClientLoginStatus::kWelcome;
    out.message = w->text;
    logged_in_ = true;
    user_ = w->user;
    current_.reset();
    renew_not_before_ = {};
  } else if (auto* wrong = std::get_if<protocol::WrongPassword>(&*reply)) {
    out.status = ClientLoginStatus::kWrongPassword;
    out.attempts_left = wrong->attempts_left;
  } else if (auto* blocked = std::get_if<protocol::Blocked>(&*reply)) {
    out.status = ClientLoginStatus::kBlocked;
    out.seconds = blocked->block_seconds;
    CloseLocked(
        util::FailedPrecondition("the account is blocked; the server closed the connection"));
  } else if (auto* still = std::get_if<protocol::StillBlocked>(&*reply)) {
    out.status = ClientLoginStatus::kStillBlocked;
    out.seconds = still->seconds_left;
    CloseLocked(
        util::FailedPrecondition("the account is blocked; the server closed the connection"));
  } else if (std::holds_alternative<protocol::Busy>(*reply)) {
    out.status = ClientLoginStatus::kBusy;
    out.message = "the server is busy; retry later";
  } else if (auto* e = std::get_if<protocol::Error>(&*reply)) {
    out.status = ClientLoginStatus::kError;
    out.message = e->message;
  } else {
    return UnexpectedLocked(*reply, "Login");
  }
  return out;
}

Status Controller::Register(const std::string& user, const util::SecretString& password) {
  util::MutexLock lock(mu_);
  BLUETRACE_RETURN_IF_ERROR(UsableLocked());
  if (logged_in_) return util::FailedPrecondition("already logged in as " + user_);
  auto reply =
      CallRetryingBusyLocked(protocol::Register{user, util::SecretString(password.view())});
  if (!reply.ok()) return reply.status();
  if (std::holds_alternative<protocol::RegisterOk>(*reply)) return Status::Ok();
  if (std::holds_alternative<protocol::Busy>(*reply)) {
    return util::Unavailable("the server is busy; retry later");
  }
  if (auto* e = std::get_if<protocol::Error>(&*reply)) return ErrorToStatus(*e);
  return UnexpectedLocked(*reply, "Register");
}

Result<protocol::TempIdRecord> Controller::FetchTempIdLocked() {
  BLUETRACE_RETURN_IF_ERROR(UsableLocked());
  if (!logged_in_) return util::FailedPrecondition("log in first");
  auto reply = CallRetryingBusyLocked(protocol::TempIdRequest{});
  if (!reply.ok()) return reply.status();
  if (auto* r = std::get_if<protocol::TempIdResponse>(&*reply)) {
    if (r->expiry_unix < r->start_unix) {
      return UnexpectedLocked(*reply, "TempIdRequest (expiry before start)");
    }
    current_ = protocol::TempIdRecord{user_, r->id, r->start_unix, r->expiry_unix};
    return *current_;
  }
  if (std::holds_alternative<protocol::Busy>(*reply)) {
    return util::Unavailable("the server is busy; retry later");
  }
  if (auto* e = std::get_if<protocol::Error>(&*reply)) return ErrorToStatus(*e);
  return UnexpectedLocked(*reply, "TempIdRequest");
}

Result<ClientController::UploadResult> Controller::UploadContactLog() {
  util::MutexLock lock(mu_);
  BLUETRACE_RETURN_IF_ERROR(UsableLocked());
  if (!logged_in_) return util::FailedPrecondition("log in first");
  auto snapshot = log_->PruneAndRead();
  if (!snapshot.ok()) return snapshot.status();
  if (snapshot->text.size() > max_upload_bytes_) {
    return util::ResourceExhausted("the contact log is " + std::to_string(snapshot->text.size()) +
                                   " bytes; the server accepts at most " +
                                   std::to_string(max_upload_bytes_));
  }
  const std::size_t chunk = protocol::MaxUploadChunkBytes(max_frame_bytes_);
  if (chunk == 0) {
    return util::FailedPrecondition("the server's frame limit of " +
                                    std::to_string(max_frame_bytes_) +
                                    " bytes leaves no room for upload data");
  }
  const std::vector<Message> parts = protocol::SplitUpload(snapshot->text, chunk);
  for (int attempt = 0;; ++attempt) {
    for (std::size_t i = 0; i + 1 < parts.size(); ++i)
      BLUETRACE_RETURN_IF_ERROR(SendLocked(parts[i]));
    auto reply = CallLocked(parts.back());
    if (!reply.ok()) return reply.status();
    if (auto* ack = std::get_if<protocol::UploadAck>(&*reply)) {
      return UploadResult{std::move(snapshot->entries), ack->entries_received};
    }
    if (auto* busy = std::get_if<protocol::Busy>(&*reply)) {
      // The server dropped the whole upload; it can be sent again from the start.
      if (attempt == kBusyRetries) return util::Unavailable("the server is busy; retry later");
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::clamp<std::uint32_t>(busy->retry_after_ms, 50, 1000)) *
          (attempt + 1));
      continue;
    }
    if (auto* e = std::get_if<protocol::Error>(&*reply)) return ErrorToStatus(*e);
    return UnexpectedLocked(*reply, "UploadEnd");
  }
}

Result<protocol::Beacon> Controller::SendBeacon(const std::string& ip, std::uint16_t port) {
  if (!IsIpLiteral(ip)) {
    return util::InvalidArgument("\"" + ip + "\" is not an IPv4 or IPv6 address");
  }
  if (port == 0) return util::InvalidArgument("the destination port must be 1-65535");
  if (!endpoint_) return util::FailedPrecondition("connect first");
  protocol::TempIdRecord record;
  {
    util::MutexLock lock(mu_);
    const std::int64_t now = clock_.NowUnixSeconds();
    if (!current_ || NeedsRenewal(*current_, now, options_.tempid_renew_margin_seconds)) {
      auto fresh = FetchTempIdLocked();
      // Within the renewal margin the current TempID is still valid and may be used when
      // the server cannot be reached; an expired one never is.
      if (!fresh.ok() && (!current_ || now > current_->expiry)) {
        return fresh.status().WithContext("getting a TempID for the beacon");
      }
    }
    record = *current_;
  }
  const protocol::Beacon beacon{record.id, record.start, record.expiry, protocol::kBeaconVersion};
  BLUETRACE_RETURN_IF_ERROR(
      net::BeaconEndpoint::Send(ip, port, protocol::EncodeBeacon(beacon, options_.time_mode)));
  return beacon;
}

Status Controller::Logout() {
  Status st;
  {
    util::MutexLock lock(mu_);
    BLUETRACE_RETURN_IF_ERROR(UsableLocked());
    auto reply = CallLocked(protocol::Logout{});
    if (!reply.ok()) {
      st = reply.status();
    } else if (!std::holds_alternative<protocol::LogoutOk>(*reply)) {
      st = UnexpectedLocked(*reply, "Logout");
    }
    CloseLocked(util::FailedPrecondition("logged out; not connected to the server"));
    current_.reset();
  }
  StopBackground();
  return st;
}

void Controller::OnBeacon(const protocol::Beacon& b) {
  const std::int64_t now = clock_.NowUnixSeconds();
  const bool valid = protocol::IsBeaconValidAt(b, now);
  const protocol::TimeZoneMode mode = options_.time_mode;
  std::vector<std::string> lines = {"received beacon:",
                                    b.id.ToString() + ",",
                                    protocol::FormatTimestamp(b.start, mode) + ",",
                                    protocol::FormatTimestamp(b.expiry, mode) + ".",
                                    "Current time is:",
                                    protocol::FormatTimestamp(now, mode) + ".",
                                    valid ? "The beacon is valid." : "The beacon is invalid."};
  if (valid) {
    // Durable before anyone is told (ASSIGNMENT.md 4).
    auto added = log_->Add(protocol::ContactLogEntry{b.id, b.start, b.expiry}, now);
    if (!added.ok()) {
      spdlog::error("storing a beacon in the contact log failed: {}", added.status().ToString());
      lines.push_back("The beacon could not be stored in the contact log: " +
                      added.status().message());
    }
  }
  util::MutexLock lock(sink_mu_);
  if (sink_) sink_(lines);
}

void Controller::StartBackground() {
  if (bg_.joinable()) return;
  {
    std::lock_guard lock(bg_mu_);
    bg_stop_ = false;
  }
  last_prune_ = clock_.SteadyNow();
  bg_ = std::thread([this] { BackgroundLoop(); });
}

void Controller::StopBackground() {
  {
    std::lock_guard lock(bg_mu_);
    bg_stop_ = true;
  }
  bg_cv_.notify_all();
  if (bg_.joinable()) bg_.join();
}

void Controller::BackgroundLoop() {
  std::unique_lock lock(bg_mu_);
  while (!bg_stop_) {
    if (bg_cv_.wait_for(lock, kTick, [this] { return bg_stop_; })) break;
    lock.unlock();
    Maintain();
    lock.lock();
  }
}

void Controller::Maintain() {
  const auto steady = clock_.SteadyNow();
  if (steady - last_prune_ >= kPruneInterval) {
    last_prune_ = steady;
    auto pruned = log_->Prune();
    if (!pruned.ok()) spdlog::warn("pruning the contact log: {}", pruned.status().ToString());
  }
  util::MutexLock lock(mu_);
  if (!conn_ || !logged_in_) return;
  const std::int64_t now = clock_.NowUnixSeconds();
  if (current_ && NeedsRenewal(*current_, now, options_.tempid_renew_margin_seconds) &&
      steady >= renew_not_before_) {
    auto fresh = FetchTempIdLocked();
    if (!fresh.ok()) {
      renew_not_before_ = steady + kRenewRetry;
      spdlog::warn("renewing the TempID: {}", fresh.status().ToString());
    }
    return;
  }
  if (steady - last_request_ >= std::chrono::seconds(options_.ping_interval_seconds)) {
    auto pong = CallLocked(protocol::Ping{++ping_nonce_});
    if (pong.ok() && !std::holds_alternative<protocol::Pong>(*pong)) {
      (void)UnexpectedLocked(*pong, "Ping");
    }
  }
}

}  // namespace

std::unique_ptr<ClientController> MakeClientController(const ClientOptions& options,
                                                       util::Clock& clock) {
  return std::make_unique<Controller>(options, clock);
}

}  // namespace bluetrace::service
