// BeaconEndpoint: the client's UDP side of the P2P part (docs/ORIGINAL.md §4). It receives the
// original's 59-byte beacons on udp_bind_address:port and sends beacons to other clients.
//
// Receiving runs on a private Asio thread started by Open and stopped by Stop or the
// destructor. Each datagram lands in a 512-byte buffer; anything that is not exactly 59
// bytes (an oversized datagram arrives truncated to 512) or does not parse as a beacon
// (protocol::ParseBeacon) is dropped and counted, and why is logged at debug level only and
// kept as last_drop(), so a flood costs one size check or one parse per datagram and no
// more than a debug log line (off by default); the owner may log a summary now and then
// (ClientController does, at info level). A valid beacon is handed to the handler on that
// thread; the handler must be quick (it holds up only further beacons, which the kernel
// buffers or drops, never the caller's thread).
//
// Send opens a socket of the destination's family per call (source port chosen by the
// OS, as in the original), so it never shares the receiving socket across threads.
// Thread-safe: Send, counters and Stop may be called from any thread except the handler
// (Stop from the handler would deadlock).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "bluetrace/protocol/beacon.hpp"
#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::net {

struct BeaconEndpointOptions {
  std::string bind_address = "0.0.0.0";  // IPv4 or IPv6 literal
  std::uint16_t port = 0;                // 0: any free port (see BeaconEndpoint::port())
  protocol::TimeZoneMode time_mode = protocol::TimeZoneMode::kUtc;  // of the beacon's times
};

class BeaconEndpoint {
 public:
  static constexpr std::size_t kDatagramBufferBytes = 512;

  using Handler = std::function<void(const protocol::Beacon& beacon)>;

  // Binds the socket and starts receiving. kInvalidArgument for a bind address that is no
  // IP literal; kIoError naming the address when the bind fails (e.g. the port is in use).
  static util::Result<std::unique_ptr<BeaconEndpoint>> Open(const BeaconEndpointOptions& options,
                                                            Handler handler);

  ~BeaconEndpoint();
  BeaconEndpoint(const BeaconEndpoint&) = delete;
  BeaconEndpoint& operator=(const BeaconEndpoint&) = delete;

  // Sends `bytes` as one datagram to ip:port. kInvalidArgument for an `ip` that is no IPv4
  // or IPv6 literal or port 0; kIoError with the OS reason when sending fails. (Not
  // kUnavailable: to ClientController that means the server connection is lost.)
  static util::Status Send(const std::string& ip, std::uint16_t port, std::string_view bytes);

  // Stops receiving and joins the thread; no handler runs after it returns. Idempotent.
  void Stop();

  // The bound port (the one the OS chose when options.port was 0).
  std::uint16_t port() const;
  // Datagrams dropped as malformed or oversized, and beacons handed to the handler.
  std::uint64_t dropped() const;
  std::uint64_t received() const;
  // Why the latest datagram was dropped ("a 12-byte datagram from 127.0.0.1:5000 (a beacon
  // is 59 bytes)", "a malformed beacon from ...: beacon: TempID must be ..."); empty
  // before the first.
  std::string last_drop() const;

 private:
  class Impl;
  explicit BeaconEndpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bluetrace::net
