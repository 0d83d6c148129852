// AcceptBackoff: what an accept loop (net::Server, net::OpsServer) does after a failed
// accept. When the process or the system is out of descriptors (EMFILE, ENFILE) the
// listening socket stays readable, so accepting again at once fails again at once: the
// loop would spin on a core and, logging each failure, flood the log. So:
//  - after any failure but a network error of the one connection (see OnError), the loop
//    pauses for kPause before accepting again; connections wait in the kernel's backlog
//    meanwhile and are accepted once descriptors are free;
//  - the warning is rate-limited: the first failure is logged at once, later ones at most
//    once per kWarnInterval, with the number of failures since the previous warning.
// Time is passed in, so tests need no clock. Not thread-safe: one per accept loop, used
// on that loop's strand or thread.
#pragma once

#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <string>

namespace bluetrace::net {

class AcceptBackoff {
 public:
  static constexpr std::chrono::milliseconds kPause{100};
  static constexpr std::chrono::seconds kWarnInterval{10};

  struct Decision {
    std::chrono::milliseconds pause{0};  // wait this long before the next accept
    std::string warning;                 // when not empty, log it as a warning
  };

  // `listener` names the loop in messages, e.g. "127.0.0.1:4000".
  explicit AcceptBackoff(std::string listener) : listener_(std::move(listener)) {}

  // A failed accept at `now`. A network error that belongs to the one pending connection
  // (ECONNABORTED, EPROTO, ENETDOWN, EHOSTUNREACH and the others accept(2) lists, EPERM
  // from a firewall rule) says nothing about the next one: no pause. Anything else pauses.
  Decision OnError(const boost::system::error_code& ec, std::chrono::steady_clock::time_point now);

 private:
  const std::string listener_;
  std::uint64_t unreported_ = 0;  // failures since the last warning, not in it
  bool warned_ = false;
  std::chrono::steady_clock::time_point last_warning_{};
};

}  // namespace bluetrace::net
