#include "bluetrace/net/client_controller.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "bluetrace/net/beacon_endpoint.hpp"
#include "bluetrace/protocol/upload.hpp"
#include "bluetrace/service/client_rules.hpp"
#include "bluetrace/store/contact_log_store.hpp"
#include "bluetrace/util/config_reader.hpp"
#include "bluetrace/util/thread_annotations.hpp"
#include "client_session.hpp"

namespace bluetrace::net {

namespace {

using namespace std::chrono_literals;
using protocol::Message;
using service::ErrorToStatus;
using service::ServerBusy;
using util::Result;
using util::Status;

// The background thread wakes this often to look at its (injected) clock: how often it
// looks, not a rule (those are service/client_rules.hpp).
constexpr auto kTick = 250ms;
// Housekeeping cadence: the contact log's retention is store::ContactLogStore's rule.
constexpr auto kPruneInterval = 2s;

class Controller final : public ClientController {
 public:
  Controller(const ClientOptions& options, ClientEnv env)
      : options_(options), env_(std::move(env)), clock_(env_.clock), session_(options_, env_) {}

  ~Controller() override {
    StopBackground();
    {
      util::MutexLock lock(mu_);
      if (LoggedInLocked()) session_.LogoutQuietly();
      session_.Close(util::FailedPrecondition("the client is shutting down"));
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
  Result<UploadResult> UploadContactLog(const util::SecretString& code) override;
  bool upload_code_required() const override {
    util::MutexLock lock(mu_);
    return (session_.hello_flags() & protocol::kHelloFlagUploadCodeRequired) != 0;
  }
  Status Deregister(const util::SecretString& password) override;
  Result<protocol::Beacon> SendBeacon(const std::string& ip, std::uint16_t port) override;
  Status Logout() override;

  void SetBeaconSink(BeaconSink sink) override {
    util::MutexLock lock(sink_mu_);
    sink_ = std::move(sink);
  }
  void SetConnectionLostSink(ConnectionLostSink sink) override {
    util::MutexLock lock(lost_sink_mu_);
    lost_sink_ = std::move(sink);
  }
  std::uint16_t udp_port() const override { return endpoint_ ? endpoint_->port() : 0; }
  std::uint64_t dropped_datagrams() const override { return endpoint_ ? endpoint_->dropped() : 0; }

 private:
  Status OpenLocalParts();
  void OnBeacon(const protocol::Beacon& beacon);

  bool LoggedInLocked() const REQUIRES(mu_) { return logged_in_ && session_.is_open(); }
  // OK when connected and logged in; else why not.
  Status RequireLoginLocked() const REQUIRES(mu_);
  // The session is logged in as `user` (canonical): the Welcome's result.
  ClientLoginResult WelcomedLocked(const std::string& user, const std::string& text) REQUIRES(mu_);
  Result<protocol::TempIdRecord> FetchTempIdLocked() REQUIRES(mu_);

  void StartBackground();
  void StopBackground();
  void BackgroundLoop();
  void Maintain();
  // One info line for the datagrams dropped since the last one (at most one line per
  // kPruneInterval, whatever a flood sends; each is logged at debug level).
  void LogDroppedDatagrams();
  // The background thread's work on the connection while logged in; the loss it found
  // (the connection was open when it began and is not now), if any.
  std::optional<Status> MaintainConnection(std::chrono::steady_clock::time_point steady);

  const ClientOptions options_;
  const ClientEnv env_;
  util::Clock& clock_;
  // Set by the first Connect (the front end's thread) before any other thread starts.
  std::unique_ptr<store::ContactLogStore> log_;
  std::unique_ptr<net::BeaconEndpoint> endpoint_;

  mutable util::Mutex mu_;  // the connection and the session's state
  ClientSession session_ GUARDED_BY(mu_);
  bool logged_in_ GUARDED_BY(mu_) = false;
  std::string user_ GUARDED_BY(mu_);
  std::optional<protocol::TempIdRecord> current_ GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point renew_not_before_ GUARDED_BY(mu_);
  std::uint64_t ping_nonce_ GUARDED_BY(mu_) = 0;

  util::Mutex sink_mu_;
  BeaconSink sink_ GUARDED_BY(sink_mu_);
  util::Mutex lost_sink_mu_;
  ConnectionLostSink lost_sink_ GUARDED_BY(lost_sink_mu_);

  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool bg_stop_ = false;  // guarded by bg_mu_
  std::thread bg_;        // started and joined by the front end's thread only
  std::chrono::steady_clock::time_point last_prune_;  // the background thread's own
  std::uint64_t dropped_logged_ = 0;                  // the background thread's own
};

Status Controller::OpenLocalParts() {
  if (!log_) {
    store::ContactLogOptions o;
    o.dir = options_.data_dir;
    o.retention_seconds = options_.contact_retention_seconds;
    o.time_mode = options_.time_mode;
    o.max_entries = options_.max_contact_log_entries;
    BLUETRACE_ASSIGN_OR_RETURN(log_, store::ContactLogStore::Open(env_.fs, clock_, std::move(o)));
  }
  if (!endpoint_) {
    net::BeaconEndpointOptions o{options_.udp_bind_address, options_.udp_port, options_.time_mode};
    BLUETRACE_ASSIGN_OR_RETURN(
        endpoint_,
        net::BeaconEndpoint::Open(o, [this](const protocol::Beacon& b) { OnBeacon(b); }));
  }
  return Status::Ok();
}

Result<ServerIdentity> Controller::Connect(const TrustPrompt& trust) {
  BLUETRACE_RETURN_IF_ERROR(OpenLocalParts());
  ServerIdentity identity;
  {
    util::MutexLock lock(mu_);
    BLUETRACE_ASSIGN_OR_RETURN(identity, session_.Open(trust));
    logged_in_ = false;
    current_.reset();
  }
  StartBackground();
  return identity;
}

ClientLoginResult Controller::WelcomedLocked(const std::string& user, const std::string& text) {
  logged_in_ = true;
  user_ = user;
  current_.reset();
  renew_not_before_ = {};
  ClientLoginResult out;
  out.status = ClientLoginStatus::kWelcome;
  out.message = text;
  return out;
}

Status Controller::RequireLoginLocked() const {
  BLUETRACE_RETURN_IF_ERROR(session_.Usable());
  if (!logged_in_) return util::FailedPrecondition("log in first");
  return Status::Ok();
}

Result<ClientLoginResult> Controller::Login(const std::string& user,
                                            const util::SecretString& password) {
  util::MutexLock lock(mu_);
  BLUETRACE_RETURN_IF_ERROR(session_.Usable());
  if (logged_in_) return util::FailedPrecondition("already logged in as " + user_);
  // Version 2 presents the device token this device holds for the user (see
  // store/device_tokens.hpp), so failed logins from elsewhere cannot block it.
  const bool v2 = session_.version() >= 2;
  BLUETRACE_ASSIGN_OR_RETURN(
      const Message reply,
      (v2 ? session_.CallRetryingBusy(
                protocol::DeviceLogin{user, util::SecretString(password.view()),
                                      util::SecretString(session_.DeviceToken(user))})
          : session_.CallRetryingBusy(protocol::Login{user, util::SecretString(password.view())})));
  ClientLoginResult out;
  if (auto* w = std::get_if<protocol::Welcome>(&reply); w != nullptr && !v2) {
    out = WelcomedLocked(w->user, w->text);
  } else if (auto* dw = std::get_if<protocol::DeviceWelcome>(&reply); dw != nullptr && v2) {
    out = WelcomedLocked(dw->user, dw->text);
    if (!dw->device_token.empty()) {
      // Kept under the name as typed (the one the next login sends) and the canonical one.
      session_.RememberDeviceToken(user, dw->device_token.view());
      if (dw->user != user) session_.RememberDeviceToken(dw->user, dw->device_token.view());
    }
  } else if (auto* wrong = std::get_if<protocol::WrongPassword>(&reply)) {
    out.status = ClientLoginStatus::kWrongPassword;
    out.attempts_left = wrong->attempts_left;
  } else if (auto* blocked = std::get_if<protocol::Blocked>(&reply)) {
    out.status = ClientLoginStatus::kBlocked;
    out.seconds = blocked->block_seconds;
    session_.Close(
        util::FailedPrecondition("the account is blocked; the server closed the connection"));
  } else if (auto* still = std::get_if<protocol::StillBlocked>(&reply)) {
    out.status = ClientLoginStatus::kStillBlocked;
    out.seconds = still->seconds_left;
    session_.Close(
        util::FailedPrecondition("the account is blocked; the server closed the connection"));
  } else if (std::holds_alternative<protocol::Busy>(reply)) {
    out.status = ClientLoginStatus::kBusy;
    out.message = ServerBusy().message();
  } else if (auto* e = std::get_if<protocol::Error>(&reply)) {
    out.status = ClientLoginStatus::kError;
    out.message = e->message;
  } else {
    return session_.Unexpected(reply, "Login");
  }
  return out;
}

Status Controller::Register(const std::string& user, const util::SecretString& password) {
  util::MutexLock lock(mu_);
  BLUETRACE_RETURN_IF_ERROR(session_.Usable());
  if (logged_in_) return util::FailedPrecondition("already logged in as " + user_);
  BLUETRACE_ASSIGN_OR_RETURN(const Message reply, session_.CallRetryingBusy(protocol::Register{
                                                      user, util::SecretString(password.view())}));
  if (std::holds_alternative<protocol::RegisterOk>(reply)) return Status::Ok();
  if (std::holds_alternative<protocol::Busy>(reply)) {
    return ServerBusy();
  }
  if (auto* e = std::get_if<protocol::Error>(&reply)) return ErrorToStatus(*e);
  return session_.Unexpected(reply, "Register");
}

Result<protocol::TempIdRecord> Controller::FetchTempIdLocked() {
  BLUETRACE_RETURN_IF_ERROR(RequireLoginLocked());
  BLUETRACE_ASSIGN_OR_RETURN(const Message reply,
                             session_.CallRetryingBusy(protocol::TempIdRequest{}));
  if (auto* r = std::get_if<protocol::TempIdResponse>(&reply)) {
    if (r->expiry_unix < r->start_unix) {
      return session_.Unexpected(reply, "TempIdRequest (expiry before start)");
    }
    current_ = protocol::TempIdRecord{user_, r->id, r->start_unix, r->expiry_unix};
    return *current_;
  }
  if (std::holds_alternative<protocol::Busy>(reply)) {
    return ServerBusy();
  }
  if (auto* e = std::get_if<protocol::Error>(&reply)) return ErrorToStatus(*e);
  return session_.Unexpected(reply, "TempIdRequest");
}

Result<ClientController::UploadResult> Controller::UploadContactLog(
    const util::SecretString& code) {
  util::MutexLock lock(mu_);
  BLUETRACE_RETURN_IF_ERROR(RequireLoginLocked());
  BLUETRACE_ASSIGN_OR_RETURN(auto snapshot, log_->PruneAndRead());
  if (snapshot.text.size() > session_.max_upload_bytes()) {
    return util::ResourceExhausted("the contact log is " + std::to_string(snapshot.text.size()) +
                                   " bytes; the server accepts at most " +
                                   std::to_string(session_.max_upload_bytes()));
  }
  const std::size_t chunk = protocol::MaxUploadChunkBytes(session_.max_frame_bytes());
  if (chunk == 0) {
    return util::FailedPrecondition("the server's frame limit of " +
                                    std::to_string(session_.max_frame_bytes()) +
                                    " bytes leaves no room for upload data");
  }
  std::vector<Message> parts = protocol::SplitUpload(snapshot.text, chunk);
  if (session_.version() >= 3 &&
      (session_.hello_flags() & protocol::kHelloFlagUploadCodeRequired) != 0) {
    // Version 3's begin carries the code; the rest of the upload is the same.
    parts.front() =
        protocol::CodedUploadBegin{snapshot.text.size(), util::SecretString(code.view())};
  }
  for (int attempt = 0;; ++attempt) {
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      BLUETRACE_RETURN_IF_ERROR(session_.Send(parts[i]));
    }
    BLUETRACE_ASSIGN_OR_RETURN(const Message reply, session_.Call(parts.back()));
    if (auto* ack = std::get_if<protocol::UploadAck>(&reply)) {
      return UploadResult{std::move(snapshot.entries), ack->entries_received};
    }
    if (std::holds_alternative<protocol::Busy>(reply)) {
      // The server dropped the whole upload; it can be sent again from the start.
      if (!session_.WaitBeforeRetry(reply, attempt)) return ServerBusy();
      continue;
    }
    if (auto* e = std::get_if<protocol::Error>(&reply)) return ErrorToStatus(*e);
    if (auto* limited = std::get_if<protocol::RateLimited>(&reply)) {
      return util::ResourceExhausted(limited->message);
    }
    return session_.Unexpected(reply, "UploadEnd");
  }
}

Result<protocol::Beacon> Controller::SendBeacon(const std::string& ip, std::uint16_t port) {
  if (!util::IsIpLiteral(ip)) {
    return util::InvalidArgument("\"" + ip + "\" is not an IPv4 or IPv6 address");
  }
  if (port == 0) return util::InvalidArgument("the destination port must be 1-65535");
  if (!endpoint_) return util::FailedPrecondition("connect first");
  protocol::TempIdRecord record;
  {
    util::MutexLock lock(mu_);
    const std::int64_t now = clock_.NowUnixSeconds();
    if (!current_ ||
        service::TempIdNeedsRenewal(*current_, now, options_.tempid_renew_margin_seconds)) {
      auto fresh = FetchTempIdLocked();
      if (!fresh.ok() && (!current_ || !service::TempIdUsableForBeacon(*current_, now))) {
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

Status Controller::Deregister(const util::SecretString& password) {
  Status st;
  {
    util::MutexLock lock(mu_);
    BLUETRACE_RETURN_IF_ERROR(RequireLoginLocked());
    if (session_.version() < 3) {
      return util::FailedPrecondition("the server speaks protocol version " +
                                      std::to_string(session_.version()) +
                                      ", which has no Deregister; ask the health authority");
    }
    BLUETRACE_ASSIGN_OR_RETURN(
        const Message reply,
        session_.Call(protocol::Deregister{util::SecretString(password.view())}));
    if (std::holds_alternative<protocol::DeregisterOk>(reply)) {
      session_.Close(util::FailedPrecondition("deregistered; not connected to the server"));
      current_.reset();
      logged_in_ = false;
    } else if (auto* wrong = std::get_if<protocol::WrongPassword>(&reply)) {
      return util::PermissionDenied("wrong password; " + std::to_string(wrong->attempts_left) +
                                    " attempts left");
    } else if (auto* blocked = std::get_if<protocol::Blocked>(&reply)) {
      st = util::FailedPrecondition("wrong password; the account is blocked for " +
                                    std::to_string(blocked->block_seconds) +
                                    " s and the server closed the connection");
      session_.Close(util::FailedPrecondition("blocked; not connected to the server"));
    } else if (auto* still = std::get_if<protocol::StillBlocked>(&reply)) {
      st = util::FailedPrecondition("the account is blocked for " +
                                    std::to_string(still->seconds_left) +
                                    " s more and the server closed the connection");
      session_.Close(util::FailedPrecondition("blocked; not connected to the server"));
    } else if (std::holds_alternative<protocol::Busy>(reply)) {
      return util::ResourceExhausted("the server is busy; try again later");
    } else if (auto* e = std::get_if<protocol::Error>(&reply)) {
      return ErrorToStatus(*e);
    } else {
      return session_.Unexpected(reply, "Deregister");
    }
  }
  StopBackground();
  return st;
}

Status Controller::Logout() {
  Status st;
  {
    util::MutexLock lock(mu_);
    BLUETRACE_RETURN_IF_ERROR(session_.Usable());
    auto reply = session_.Call(protocol::Logout{});
    if (!reply.ok()) {
      st = reply.status();
    } else if (!std::holds_alternative<protocol::LogoutOk>(*reply)) {
      st = session_.Unexpected(*reply, "Logout");
    }
    session_.Close(util::FailedPrecondition("logged out; not connected to the server"));
    current_.reset();
  }
  StopBackground();
  return st;
}

void Controller::OnBeacon(const protocol::Beacon& b) {
  const std::int64_t now = clock_.NowUnixSeconds();
  const bool valid = protocol::IsBeaconValidAt(b, now);
  const protocol::TimeZoneMode mode = options_.time_mode;
  // The terminal shows the original's lines only; the log says why.
  if (valid) {
    spdlog::debug("beacon {}: valid", b.id.ToString());
  } else {
    spdlog::info("beacon {}: invalid, {}", b.id.ToString(), protocol::DescribeBeaconTiming(b, now));
  }
  std::vector<std::string> lines = {"received beacon:",
                                    b.id.ToString() + ",",
                                    protocol::FormatTimestamp(b.start, mode) + ",",
                                    protocol::FormatTimestamp(b.expiry, mode) + ".",
                                    "Current time is:",
                                    protocol::FormatTimestamp(now, mode) + ".",
                                    valid ? "The beacon is valid." : "The beacon is invalid."};
  if (valid) {
    // Durable before anyone is told.
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
    LogDroppedDatagrams();
  }
  const std::optional<Status> lost = MaintainConnection(steady);
  if (!lost) return;
  spdlog::info("the background thread found the connection lost: {}", lost->ToString());
  util::MutexLock lock(lost_sink_mu_);
  if (lost_sink_) lost_sink_(*lost);
}

void Controller::LogDroppedDatagrams() {
  const std::uint64_t dropped = endpoint_->dropped();
  if (dropped == dropped_logged_) return;
  const std::uint64_t count = dropped - dropped_logged_;
  dropped_logged_ = dropped;
  spdlog::info("dropped {} datagram{} on UDP port {} that {} no beacon; the last: {}", count,
               count == 1 ? "" : "s", endpoint_->port(), count == 1 ? "was" : "were",
               endpoint_->last_drop());
}

std::optional<Status> Controller::MaintainConnection(std::chrono::steady_clock::time_point steady) {
  util::MutexLock lock(mu_);
  if (!LoggedInLocked()) return std::nullopt;
  service::BackgroundState state;
  state.current = current_ ? &*current_ : nullptr;
  state.now_unix = clock_.NowUnixSeconds();
  state.now = steady;
  state.renew_not_before = renew_not_before_;
  state.last_request = session_.last_request();
  state.renew_margin_seconds = options_.tempid_renew_margin_seconds;
  state.ping_interval = std::chrono::seconds(options_.ping_interval_seconds);
  switch (service::NextBackgroundStep(state)) {
    case service::BackgroundStep::kRenewTempId:
      if (auto fresh = FetchTempIdLocked(); !fresh.ok()) {
        renew_not_before_ = steady + service::kTempIdRenewRetry;
        spdlog::warn("renewing the TempID: {}", fresh.status().ToString());
      }
      break;
    case service::BackgroundStep::kPing:
      if (auto pong = session_.Call(protocol::Ping{++ping_nonce_});
          pong.ok() && !std::holds_alternative<protocol::Pong>(*pong)) {
        (void)session_.Unexpected(*pong, "Ping");
      }
      break;
    case service::BackgroundStep::kCheckIdle:
      (void)session_.CheckIdle();
      break;
  }
  if (session_.is_open()) return std::nullopt;
  return session_.Usable();
}

}  // namespace

void SleepForReal(std::chrono::milliseconds wait) { std::this_thread::sleep_for(wait); }

std::unique_ptr<service::ClientController> MakeClientController(const ClientOptions& options,
                                                                ClientEnv env) {
  return std::make_unique<Controller>(options, std::move(env));
}

}  // namespace bluetrace::net
