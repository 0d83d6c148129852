#include "bluetrace/net/accept_backoff.hpp"

#include <cerrno>

namespace bluetrace::net {

namespace {

// The errors that accept(2) says Linux passes on from the pending connection itself.
bool IsErrorOfOneConnection(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category()) return false;
  switch (ec.value()) {
    case ECONNABORTED:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
    case EPERM:  // a firewall rule refused this connection
      return true;
    default:
      return false;
  }
}

}  // namespace

AcceptBackoff::Decision AcceptBackoff::OnError(const boost::system::error_code& ec,
                                               std::chrono::steady_clock::time_point now) {
  Decision decision;
  const bool pause = !IsErrorOfOneConnection(ec);
  if (pause) decision.pause = kPause;
  if (warned_ && now - last_warning_ < kWarnInterval) {
    ++unreported_;
    return decision;
  }
  decision.warning = "accept failed on " + listener_ + ": " + ec.message();
  if (pause) decision.warning += "; pausing accepts for " + std::to_string(kPause.count()) + " ms";
  if (unreported_ > 0) {
    decision.warning += " (" + std::to_string(unreported_) + " more failed since the last warning)";
  }
  warned_ = true;
  last_warning_ = now;
  unreported_ = 0;
  return decision;
}

}  // namespace bluetrace::net
