// The seam between the network and the rules: a transport-agnostic protocol session.
//
// net/ turns bytes into protocol::Messages (FrameDecoder) and back, and owns sockets, TLS
// and deadlines. service/ decides what each message means. A Session is the server side
// of one connection's conversation: the state machine of docs/PROTOCOL.md (Hello, then
// Register/Login, then TempIdRequest/Upload*/Ping, then Logout). Because it never sees a
// socket, a fuzzer or a unit test can drive it with messages from memory.
//
// Threading: the transport calls Handle() for one message at a time and must not call it
// again before the previous `done` has run; `done` may run on another thread (password
// hashing and durable writes happen on worker threads), so the transport re-posts it to
// its own strand. logged_in() and Closed() are called from the transport's strand.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/protocol/messages.hpp"

namespace bluetrace::service {

struct SessionReply {
  std::vector<protocol::Message> messages;  // sent in order
  bool close = false;                       // close the connection once they are sent
};

using ReplyFn = std::function<void(SessionReply)>;

class Session {
 public:
  virtual ~Session() = default;

  // Handles one message from the client; calls `done` exactly once.
  virtual void Handle(protocol::Message message, ReplyFn done) = 0;

  // True after a successful login and until logout: the transport then applies the idle
  // deadline instead of the login deadline.
  virtual bool logged_in() const = 0;

  // The connection is over (logout, error, timeout, or a client that vanished: it counts
  // as logged out). Called once; `done` callbacks still pending afterwards are harmless.
  virtual void Closed() = 0;
};

// Creates sessions and admits connections; implemented by the reporting service.
class SessionFactory {
 public:
  virtual ~SessionFactory() = default;

  // A new connection from `peer_address` (an IP literal). False when the address exceeds
  // its rate of new connections; the transport then closes it at once.
  virtual bool AdmitConnection(std::string_view peer_address) = 0;

  virtual std::unique_ptr<Session> NewSession(std::string peer_address) = 0;
};

}  // namespace bluetrace::service
