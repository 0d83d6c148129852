// ClientController: everything bluetrace-client does, without its terminal.
//
// It owns the TLS connection to the reporting server, the UDP beacon endpoint, the
// contact log and the current TempID. The program's front end (apps/client_main.cpp:
// prompts, libedit, scripted stdin) calls these methods and prints what they return;
// this class never prints. Output that arrives unprompted (a beacon received) is handed
// to the BeaconSink as complete lines.
//
// Threads: the front end calls from one thread. Internally a background thread pings the
// server (idle deadline), renews the TempID before it expires and watches for the server
// closing the connection (ConnectionLostSink) while logged in, and an Asio thread receives
// beacons; connection use is serialised by a mutex, so these never interleave frames. The
// destructor logs out (best effort, bounded) and stops everything.
//
// Error codes the front end acts on, the same for every method:
//  - kUnavailable: there is no connection to the server. It could not be reached (name,
//    TCP, TLS handshake, timeout, Hello refused), or the connection was lost (closed by
//    the server, a request timed out, a nonsensical reply). The session is over; only
//    Connect can make a new one. No other condition uses this code.
//  - kResourceExhausted: the server turned this one request away (Busy through the
//    retries, rate-limited, too large) or a local limit was hit; the connection is fine
//    and a later request may succeed.
//  - kFailedPrecondition: not connected yet, logged out, not (or already) logged in, or
//    the server closed the session after a block.
//  - kInternal: the server reported a fault of its own; the connection stays open.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bluetrace/protocol/beacon.hpp"
#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/secret.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::service {

struct ClientOptions {
  std::string server_host;  // IP literal or name
  std::uint16_t server_port = 0;
  std::uint16_t udp_port = 0;  // beacons are received here (0: any, tests)
  std::string udp_bind_address = "0.0.0.0";
  std::string data_dir = ".";      // contactlog.txt (and its receipt-time sidecar)
  std::string ca_file;             // empty: trust on first use (known_servers_file)
  std::string known_servers_file;  // TOFU fingerprints; default in the user's state dir
  protocol::TimeZoneMode time_mode = protocol::TimeZoneMode::kUtc;
  std::int64_t contact_retention_seconds = 21 * 24 * 3600;  // the original: 180
  std::size_t max_contact_log_entries = 100000;             // beacons stored beyond it are dropped
  std::int64_t tempid_renew_margin_seconds = 60;            // renew this long before expiry
  std::uint32_t ping_interval_seconds = 60;                 // keeps the server's idle deadline away
  std::uint32_t timeout_seconds = 10;                       // connect and each request
};

// What the TLS connect learned about the server's identity.
struct ServerIdentity {
  std::string fingerprint;  // "SHA256:AB:..."
  bool verified_by_ca = false;
  bool known = false;  // TOFU: the fingerprint was already in known_servers_file
};

enum class ClientLoginStatus { kWelcome, kWrongPassword, kBlocked, kStillBlocked, kBusy, kError };

struct ClientLoginResult {
  ClientLoginStatus status = ClientLoginStatus::kError;
  std::uint32_t attempts_left = 0;
  std::int64_t seconds = 0;
  std::string message;  // for kError: what went wrong, for people
};

// Called (from the receiving thread) with the lines the original printed for a beacon:
// "received beacon:", "<TempID>,", "<start>,", "<expiry>.", "Current time is:", "<now>.",
// "The beacon is valid." / "The beacon is invalid." A valid beacon is stored in the contact
// log before the call; if storing failed, one more line follows: "The beacon could not be
// stored in the contact log: <reason>".
using BeaconSink = std::function<void(const std::vector<std::string>& lines)>;

// Called (from the background thread) when the background thread finds the connection gone
// while logged in: the server closed it (stopped, or ended an idle session), or a ping or
// TempID renewal found it lost. `why` is kUnavailable, with the message the next method
// call would return. Once per connection; never after Logout, nor for a loss that a
// method call found (that call reports it).
using ConnectionLostSink = std::function<void(const util::Status& why)>;

// Decides whether to trust an unknown server certificate (interactive TOFU). Return true
// to trust and remember it.
using TrustPrompt = std::function<bool(const std::string& host_port, const std::string& fp)>;

class ClientController {
 public:
  virtual ~ClientController() = default;

  // Opens the UDP endpoint, loads and prunes the contact log, connects with TLS and says
  // Hello. With no CA file: a known fingerprint must match (kPermissionDenied with a clear
  // message when it changed); an unknown one is offered to `trust` (nullptr: refuse with a
  // message saying to pass --ca-file or confirm interactively). kUnavailable when the
  // server cannot be reached or refuses the session; kFailedPrecondition when connected
  // already; kInvalidArgument for a bad UDP bind address; kIoError when the UDP port
  // cannot be bound; the contact log's and the known-servers file's errors.
  virtual util::Result<ServerIdentity> Connect(const TrustPrompt& trust) = 0;

  // Every answer of the server is a ClientLoginResult: a Busy that persisted through the
  // retries is kBusy, an Error (e.g. rate-limited) is kError with its text. A Status only
  // when there is no answer: kUnavailable (no connection), kFailedPrecondition (not
  // connected yet, blocked, or already logged in).
  virtual util::Result<ClientLoginResult> Login(const std::string& user,
                                                const util::SecretString& password) = 0;
  // kAlreadyExists / kInvalidArgument / kFailedPrecondition (disabled) with the server's
  // text; kResourceExhausted when the server stayed busy or rate-limits registrations;
  // kInternal for a server fault; kUnavailable when the connection is gone;
  // kFailedPrecondition when not connected or already logged in.
  virtual util::Status Register(const std::string& user, const util::SecretString& password) = 0;

  // Download_tempID: always a fresh TempID, which becomes the current one.
  // kFailedPrecondition before a login; kResourceExhausted when the server stayed busy or
  // rate-limits TempID requests; kInternal for a server fault; kUnavailable when the
  // connection is gone.
  virtual util::Result<protocol::TempIdRecord> DownloadTempId() = 0;

  // Upload_contact_log: prunes, reads contactlog.txt, sends it; returns the entries sent
  // and how many the server received. kFailedPrecondition before a login (or when the
  // server's frame limit leaves no room for data); kResourceExhausted when the log exceeds
  // the server's upload limit or the server stayed busy; kInvalidArgument when the server
  // rejects the log; the contact log's read errors; kInternal for a server fault;
  // kUnavailable when the connection is gone.
  struct UploadResult {
    std::vector<protocol::ContactLogEntry> entries;
    std::uint32_t received = 0;
  };
  // `code`: the health authority's upload code as the user typed it, sent (protocol
  // version 3) when the server requires one (upload_code_required()). kPermissionDenied
  // when the server refuses the code (wrong, used, expired; the message says how many
  // tries are left) or needs one this client cannot send.
  virtual util::Result<UploadResult> UploadContactLog(const util::SecretString& code) = 0;
  util::Result<UploadResult> UploadContactLog() { return UploadContactLog(util::SecretString()); }
  // Whether the server said (HelloOk, version 3) that uploads need a code.
  virtual bool upload_code_required() const = 0;

  // Deregister (protocol version 3): withdraws consent; the server deletes the account and
  // its TempIDs after checking `password`, then closes the connection. kPermissionDenied
  // for a wrong password (the message says how many tries are left; the session goes on);
  // kFailedPrecondition when the account is blocked (the server closed the connection),
  // before a login, or when the server speaks an older version; kUnavailable when the
  // connection is gone.
  virtual util::Status Deregister(const util::SecretString& password) = 0;

  // Beacon <ip> <port>: sends the current TempID (fetching a fresh one first when there is
  // none or it expired); returns what was sent. kInvalidArgument for an `ip` that is no IP
  // literal or port 0; kFailedPrecondition before Connect; DownloadTempId's errors, with
  // context, when a TempID was needed and the current one cannot stand in (none, or
  // expired); kIoError when the datagram cannot be sent.
  virtual util::Result<protocol::Beacon> SendBeacon(const std::string& ip, std::uint16_t port) = 0;

  // Logs out and closes the connection (closed even when the logout fails). kUnavailable
  // when the connection was already gone or the logout got no answer; kFailedPrecondition
  // when not connected.
  virtual util::Status Logout() = 0;

  // The sink is called under a lock: once SetBeaconSink returns, the previous sink is no
  // longer running. A sink must not call SetBeaconSink itself.
  virtual void SetBeaconSink(BeaconSink sink) = 0;
  // The same for the connection-lost sink; it must not call this controller at all (the
  // background thread waits for it), only hand the news on.
  virtual void SetConnectionLostSink(ConnectionLostSink sink) = 0;
  virtual std::uint16_t udp_port() const = 0;
  // Datagrams dropped as malformed or oversized, since start.
  virtual std::uint64_t dropped_datagrams() const = 0;
};

// The implementation (TLS connection, UDP endpoint, contact log) lives in net/, above this
// layer: net::MakeClientController (include/bluetrace/net/client_controller.hpp). The rules
// it follows (TempID renewal, retries, what an Error reply means) are
// service/client_rules.hpp.

}  // namespace bluetrace::service
