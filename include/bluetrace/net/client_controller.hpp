// The client's machinery: the implementation of service::ClientController over a TLS
// ClientConnection to the reporting server, a UDP BeaconEndpoint, the contact-log store
// and the known-servers file (src/net/client_controller.cpp, src/net/client_session.*).
// It lives in net/ because it owns sockets; the interface and its rules are in service/.
#pragma once

#include <memory>

#include "bluetrace/service/client_controller.hpp"
#include "bluetrace/util/clock.hpp"

namespace bluetrace::net {

// A controller for `options`; nothing is opened until Connect(). `clock` must outlive it.
std::unique_ptr<service::ClientController> MakeClientController(
    const service::ClientOptions& options, util::Clock& clock);

}  // namespace bluetrace::net
