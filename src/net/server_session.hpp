// ServerSession: one accepted connection of net::Server (private to src/net).
//
// Owns the TLS socket, the read buffer, the frame decoder, the deadline timer and the
// service::Session; all of its handlers run on the socket's strand (the socket is accepted
// onto a fresh strand). Life cycle:
//
//   handshake -> [ wait for a frame -> handle (Session) -> write the reply ]* -> close
//
// Every path ends in CloseNow(): the socket is closed, Session::Closed() is called and the
// owner is told, exactly once; handlers that complete afterwards see kDone and return.
// Held by shared_ptr: the owner's registry and every pending handler keep it alive.
#pragma once

#include <utility>  // before Asio: g++ 12 in C++20 needs it (Asio uses std::exchange)

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bluetrace/net/server.hpp"
#include "bluetrace/protocol/frame_decoder.hpp"
#include "bluetrace/service/session.hpp"
#include "bluetrace/util/thread_annotations.hpp"
#include "tls_socket.hpp"

namespace bluetrace::net::detail {

// Lets a Session's `done`, called from any thread, post onto a strand only while the
// Server's io_context exists: the Server closes the gate before destroying it.
class ReplyGate {
 public:
  template <typename F>
  void IfOpen(F&& f) {
    util::MutexLock lock(mu_);
    if (open_) f();
  }
  void Close() {
    util::MutexLock lock(mu_);
    open_ = false;
  }

 private:
  util::Mutex mu_;
  bool open_ GUARDED_BY(mu_) = true;
};

// What a session needs from the server that made it.
class SessionOwner {
 public:
  virtual ~SessionOwner() = default;
  // Called once per session, on its strand, after Session::Closed().
  virtual void SessionFinished(std::uint64_t id, const std::string& peer_address) = 0;
};

class ServerSession : public std::enable_shared_from_this<ServerSession> {
 public:
  struct Context {
    const ServerOptions* options;
    ServerStats* stats;
    SessionOwner* owner;
    std::shared_ptr<ReplyGate> gate;
  };

  ServerSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> tls,
                std::unique_ptr<service::Session> app, std::string peer_address, std::uint64_t id,
                Context context);
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // Each posts onto the session's strand and may be called from any thread.
  void Start();
  // Finish the request in progress, if any, then close gracefully; close an idle
  // connection at once with a TLS close_notify.
  void RequestStop();
  // Close the socket now.
  void Abort();

 private:
  enum class Phase { kHandshake, kReading, kHandling, kWriting, kClosing, kDone };
  using Clock = std::chrono::steady_clock;

  void DoHandshake();
  void OnHandshake(boost::system::error_code ec);
  void WaitForFrame();
  void ArmDeadline();
  void DisarmDeadline();
  void OnDeadline(boost::system::error_code ec, std::uint64_t generation);
  void ProcessInput();
  void DoRead();
  void OnRead(boost::system::error_code ec, std::size_t bytes);
  void OnReadError(boost::system::error_code ec);
  void SendTimeout();
  void HandleMessage(protocol::Message message);
  void OnReply(service::SessionReply reply);
  void ProtocolError(const util::Status& status);
  void Send(std::vector<protocol::Message> messages, bool close_after,
            std::chrono::milliseconds timeout);
  void OnWrite(boost::system::error_code ec, std::size_t bytes);
  void StartShutdown();
  void OnShutdown(boost::system::error_code ec);
  void CloseNow();
  void WipeReadBuffer();
  // Gives read_buffer_ the capacity the next read needs; only when it holds nothing.
  void SizeReadBuffer();

  // The read buffer is sized to what is pending: kIdleReadBytes while frames are small
  // (an idle session waits on it), kReadChunk, one TLS record's plaintext, after a read
  // that filled the small one, back to small after a read that did not fill the large one.
  static constexpr std::size_t kIdleReadBytes = 512;
  static constexpr std::size_t kReadChunk = 16 * 1024;

  const ServerOptions& options_;
  ServerStats& stats_;
  SessionOwner& owner_;
  const std::shared_ptr<ReplyGate> gate_;
  const std::string peer_;
  const std::uint64_t id_;
  // Declared before stream_, which refers to it: kept alive across certificate reloads.
  const std::shared_ptr<boost::asio::ssl::context> tls_;
  TlsSocket stream_;
  const boost::asio::any_io_executor strand_;  // the socket's strand: every handler runs on it
  boost::asio::steady_timer deadline_;
  const std::shared_ptr<service::Session> app_;
  protocol::FrameDecoder decoder_;
  std::unique_ptr<std::uint8_t[]> read_buffer_;  // read_capacity_ bytes; allocated at DoRead
  std::size_t read_capacity_ = 0;
  bool last_read_filled_ = false;  // the last read filled read_buffer_: more is pending
  std::size_t read_begin_ = 0;
  std::size_t read_end_ = 0;
  std::string write_buffer_;
  std::uint64_t frames_in_write_ = 0;
  bool close_after_write_ = false;
  Phase phase_ = Phase::kHandshake;
  Clock::time_point login_deadline_;
  std::uint64_t deadline_generation_ = 0;
  bool timed_out_ = false;
  bool stop_requested_ = false;
};

}  // namespace bluetrace::net::detail
