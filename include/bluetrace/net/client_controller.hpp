// The client's machinery: the implementation of service::ClientController over a TLS
// ClientConnection to the reporting server, a UDP BeaconEndpoint, the contact-log store
// and the known-servers file (src/net/client_controller.cpp, src/net/client_session.*).
// It lives in net/ because it owns sockets and does the I/O; the interface is
// service/client_controller.hpp and the rules it follows (TempID renewal, retries) are
// service/client_rules.hpp.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <utility>

#include "bluetrace/service/client_controller.hpp"
#include "bluetrace/service/client_rules.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"

namespace bluetrace::net {

// Blocks the calling thread for `wait` (a retry's wait, service::RetryPolicy).
using SleepFn = std::function<void(std::chrono::milliseconds wait)>;

// std::this_thread::sleep_for.
void SleepForReal(std::chrono::milliseconds wait);

// What a client needs from outside; every reference must outlive the controller.
struct ClientEnv {
  ClientEnv(store::FileSystem& file_system, util::Clock& time, util::Random& generator,
            SleepFn sleeper = SleepForReal)
      : fs(file_system), clock(time), random(generator), sleep(std::move(sleeper)) {}

  store::FileSystem& fs;  // the contact log, known servers, device tokens, the CA file
  util::Clock& clock;
  util::Random& random;        // the jitter of Busy retries
  SleepFn sleep;               // tests: return at once, or move a ManualClock
  service::RetryPolicy retry;  // Busy and RateLimited answers
};

// A controller for `options`; nothing is opened until Connect().
std::unique_ptr<service::ClientController> MakeClientController(
    const service::ClientOptions& options, ClientEnv env);

}  // namespace bluetrace::net
