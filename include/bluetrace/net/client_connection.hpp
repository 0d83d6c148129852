// ClientConnection: one blocking TLS connection to a bluetrace server, speaking frames.
// Used by bluetrace-client and by integration tests.
//
// Every call is bounded in time: Connect by ClientConnectOptions::timeout (TCP connect and
// TLS handshake together), Send/SendRaw by the same timeout, Receive/Call by their
// argument, Close by close_timeout. Internally each call runs asynchronous Asio operations
// on a private io_context for at most the time left, and cancels them when it is up.
//
// After a failed Send, a frame from the server that does not decode, or the server
// closing the connection, the connection is closed (is_open() false) and later calls fail
// with kFailedPrecondition. A Receive that times out leaves the connection usable.
//
// Not thread-safe: one thread at a time. Move-free; owned through unique_ptr. The
// destructor closes gracefully (bounded by close_timeout).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "bluetrace/net/tls_context.hpp"
#include "bluetrace/protocol/messages.hpp"
#include "bluetrace/protocol/wire.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::net {

struct ClientConnectOptions {
  // Bounds the TCP connect plus the TLS handshake, and each Send.
  std::chrono::milliseconds timeout{10'000};
  // Bounds Close(): our close_notify and the wait for the server's.
  std::chrono::milliseconds close_timeout{1'000};
  // Source address to bind before connecting (e.g. "127.0.0.2"); empty: the OS chooses.
  std::string local_address;
  // Largest frame N accepted from the server.
  std::uint32_t max_frame_bytes = protocol::kDefaultMaxFrameBytes;
};

class ClientConnection {
 public:
  // Connects to host:port (an IP literal or a name to resolve), binds local_address first
  // when set, and completes a TLS handshake with a context made by MakeClientContext
  // (files read from the real file system). Errors: those of MakeClientContext;
  // kInvalidArgument for a bad local_address; kUnavailable naming host:port when nothing
  // could be connected, the TLS handshake failed or the timeout passed ("timed out");
  // kPermissionDenied when the server's certificate did not verify against tls.ca_file
  // (the message carries OpenSSL's reason, e.g. "hostname mismatch").
  static util::Result<std::unique_ptr<ClientConnection>> Connect(
      const std::string& host, std::uint16_t port, const TlsClientOptions& tls,
      const ClientConnectOptions& options = {});

  // The same with a context built by the caller (MakeClientContext, possibly adjusted);
  // `tls` supplies the per-connection settings (SNI). kInvalidArgument for a null context.
  static util::Result<std::unique_ptr<ClientConnection>> Connect(
      const std::string& host, std::uint16_t port,
      std::shared_ptr<boost::asio::ssl::context> context, const TlsClientOptions& tls,
      const ClientConnectOptions& options = {});

  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // Encodes and writes one frame (the encoded copy is wiped afterwards: it may hold a
  // password). Errors: EncodeFrame's (the connection stays open); kUnavailable when the
  // write fails or times out (the connection is closed); kFailedPrecondition when closed.
  util::Status Send(const protocol::Message& message);

  // Writes bytes as they are, for tests of malformed input. Errors as Send.
  util::Status SendRaw(std::string_view bytes);

  // The next message from the server, waiting at most `timeout`. Errors: kUnavailable
  // with "timed out" in the message and timed_out() true when nothing complete arrived in
  // time (still open); kUnavailable with "closed by the server" when the server ended the
  // connection; kInvalidArgument or kResourceExhausted for a frame that does not decode
  // (closed); kFailedPrecondition when already closed.
  util::Result<protocol::Message> Receive(std::chrono::milliseconds timeout);

  // Send() then Receive(timeout).
  util::Result<protocol::Message> Call(const protocol::Message& request,
                                       std::chrono::milliseconds timeout);

  // Sends our TLS close_notify, waits briefly for the server's, closes the socket.
  // Idempotent.
  void Close();

  // True when something from the server waits to be received, or the server has closed
  // the connection, so that a Receive would not wait for the network: for noticing,
  // between requests, a server that went away. False when closed. Never blocks.
  bool HasInput() const;

  bool is_open() const;
  // After a Send, SendRaw, Receive or Call that failed: true when it failed because its
  // time ran out, so callers need not read the message; false otherwise.
  bool timed_out() const;
  // The server certificate's fingerprint ("SHA256:AB:..."), for trust on first use.
  const std::string& peer_fingerprint() const;
  // The negotiated protocol, e.g. "TLSv1.3".
  std::string tls_version() const;
  // "127.0.0.2:53211": the local end of the connection.
  std::string local_endpoint() const;

 private:
  class Impl;
  explicit ClientConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bluetrace::net
