#include "server_session.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <span>

#include "bluetrace/net/tls_context.hpp"
#include "bluetrace/protocol/messages.hpp"
#include "bluetrace/protocol/phone.hpp"
#include "bluetrace/util/secret.hpp"

namespace bluetrace::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;
using protocol::ErrorCode;

namespace {

// Message is move-only, so it cannot come from an initializer list.
std::vector<protocol::Message> OneMessage(protocol::Message message) {
  std::vector<protocol::Message> messages;
  messages.push_back(std::move(message));
  return messages;
}

}  // namespace

ServerSession::ServerSession(asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> tls,
                             std::unique_ptr<service::Session> app, std::string peer_address,
                             std::uint64_t id, Context context)
    : options_(*context.options),
      stats_(*context.stats),
      owner_(*context.owner),
      gate_(std::move(context.gate)),
      peer_(std::move(peer_address)),
      id_(id),
      tls_(std::move(tls)),
      stream_(std::move(socket), *tls_),
      strand_(stream_.get_executor()),
      deadline_(strand_),
      app_(std::move(app)),
      decoder_(options_.max_frame_bytes),
      login_deadline_(Clock::now() + options_.login_timeout) {}

ServerSession::~ServerSession() {
  if (read_buffer_) OPENSSL_cleanse(read_buffer_.get(), read_capacity_);
  util::WipeString(write_buffer_);
}

void ServerSession::Start() {
  asio::post(strand_, [self = shared_from_this()] { self->DoHandshake(); });
}

void ServerSession::RequestStop() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->phase_ == Phase::kDone) return;
    self->stop_requested_ = true;
    switch (self->phase_) {
      case Phase::kHandshake:
        return self->CloseNow();
      case Phase::kReading:
        // OnRead sees stop_requested_ and sends the close_notify.
        self->stream_.Cancel();
        return;
      default:
        return;  // the reply in progress is written first (OnWrite)
    }
  });
}

void ServerSession::Abort() {
  asio::post(strand_, [self = shared_from_this()] { self->CloseNow(); });
}

void ServerSession::DoHandshake() {
  if (phase_ == Phase::kDone) return;
  if (stop_requested_) return CloseNow();
  spdlog::debug("connection #{} from {}: accepted", id_, peer_);
  stream_.ExpiresAfter(options_.handshake_timeout);
  stream_.AsyncHandshake(
      beast::bind_front_handler(&ServerSession::OnHandshake, shared_from_this()));
}

void ServerSession::OnHandshake(error_code ec) {
  if (phase_ == Phase::kDone) return;
  if (ec) {
    if (ec == beast::error::timeout) {
      stats_.timeouts.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("connection #{} from {}: TLS handshake timed out", id_, peer_);
    } else {
      stats_.tls_handshakes_failed.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("connection #{} from {}: TLS handshake failed: {}", id_, peer_,
                    DescribeTlsError(ec, stream_.native_handle()));
    }
    return CloseNow();
  }
  stream_.ExpiresNever();
  spdlog::debug("connection #{} from {}: {} established", id_, peer_,
                SSL_get_version(stream_.native_handle()));
  WaitForFrame();
}

// At a frame boundary: the client may send its next request.
void ServerSession::WaitForFrame() {
  if (stop_requested_) return StartShutdown();
  if (!app_->logged_in() && Clock::now() >= login_deadline_) {
    // Frames already buffered must not let a client outrun its login deadline.
    stats_.timeouts.fetch_add(1, std::memory_order_relaxed);
    return SendTimeout();
  }
  ArmDeadline();
  ProcessInput();
}

void ServerSession::ArmDeadline() {
  // Before login the deadline is absolute from accept; after it, idle time per frame.
  const Clock::time_point expiry =
      app_->logged_in() ? Clock::now() + options_.idle_timeout : login_deadline_;
  deadline_.expires_at(expiry);
  const std::uint64_t generation = ++deadline_generation_;
  deadline_.async_wait(
      [self = shared_from_this(), generation](error_code ec) { self->OnDeadline(ec, generation); });
}

void ServerSession::DisarmDeadline() {
  ++deadline_generation_;  // an expiry already queued is ignored
  deadline_.cancel();
}

void ServerSession::OnDeadline(error_code ec, std::uint64_t generation) {
  if (ec || generation != deadline_generation_ || phase_ != Phase::kReading) return;
  timed_out_ = true;
  stats_.timeouts.fetch_add(1, std::memory_order_relaxed);
  // OnRead sees timed_out_ and sends Error{kTimeout}.
  stream_.Cancel();
}

// Hands the next complete message to the Session, or reads more. The decoder takes bytes
// only up to the end of the frame being assembled, so unconsumed bytes wait in
// read_buffer_ while a request is with the Session.
void ServerSession::ProcessInput() {
  phase_ = Phase::kReading;
  const std::span<const std::uint8_t> rest(read_buffer_.get() + read_begin_,
                                           read_end_ - read_begin_);
  read_begin_ += decoder_.Feed(rest);
  util::Result<std::optional<protocol::Message>> next = decoder_.NextMessage();
  if (!next.ok()) return ProtocolError(next.status());
  if (next->has_value()) return HandleMessage(std::move(**next));
  WipeReadBuffer();  // every byte is in the decoder now
  DoRead();
}

void ServerSession::DoRead() {
  SizeReadBuffer();
  stream_.AsyncReadSome(asio::buffer(read_buffer_.get(), read_capacity_),
                        beast::bind_front_handler(&ServerSession::OnRead, shared_from_this()));
}

void ServerSession::SizeReadBuffer() {
  const std::size_t wanted = last_read_filled_ ? kReadChunk : kIdleReadBytes;
  if (read_capacity_ == wanted) return;
  if (read_buffer_) OPENSSL_cleanse(read_buffer_.get(), read_capacity_);
  read_buffer_ = std::make_unique_for_overwrite<std::uint8_t[]>(wanted);
  read_capacity_ = wanted;
}

void ServerSession::OnRead(error_code ec, std::size_t bytes) {
  if (phase_ != Phase::kReading) return;
  if (timed_out_) return SendTimeout();
  if (stop_requested_) return StartShutdown();
  if (ec) return OnReadError(ec);
  last_read_filled_ = bytes == read_capacity_;
  read_begin_ = 0;
  read_end_ = bytes;
  ProcessInput();
}

void ServerSession::SendTimeout() {
  spdlog::debug("connection #{} from {}: {} deadline passed", id_, peer_,
                app_->logged_in() ? "idle" : "login");
  Send(OneMessage(protocol::Error{ErrorCode::kTimeout,
                                  app_->logged_in() ? "idle for too long" : "login took too long"}),
       /*close_after=*/true, options_.close_timeout);
}

void ServerSession::OnReadError(error_code ec) {
  if (ec == asio::error::eof) {
    // A TLS close_notify: answer with ours.
    spdlog::debug("connection #{} from {}: closed by the client", id_, peer_);
    return StartShutdown();
  }
  if (IsTruncation(ec) || ec == asio::error::connection_reset) {
    spdlog::debug("connection #{} from {}: the client disconnected", id_, peer_);
  } else {
    spdlog::debug("connection #{} from {}: read failed: {}", id_, peer_,
                  DescribeTlsError(ec, stream_.native_handle()));
  }
  CloseNow();
}

void ServerSession::HandleMessage(protocol::Message message) {
  DisarmDeadline();
  stats_.frames_in.fetch_add(1, std::memory_order_relaxed);
  phase_ = Phase::kHandling;
  // `done` may outlive the Server (a slow worker, a Session that holds it), so it holds
  // nothing of Asio's: a strand copied into it would be destroyed after its io_context.
  // The gate says whether the io_context still exists; `app` keeps the Session alive for
  // a `done` that runs after the connection is over.
  app_->Handle(std::move(message),
               [weak = weak_from_this(), gate = gate_, app = app_](service::SessionReply reply) {
                 gate->IfOpen([&] {
                   std::shared_ptr<ServerSession> self = weak.lock();
                   if (!self) return;  // the connection is over
                   const boost::asio::any_io_executor strand = self->strand_;
                   asio::post(strand, [self = std::move(self), reply = std::move(reply)]() mutable {
                     self->OnReply(std::move(reply));
                   });
                 });
               });
}

void ServerSession::OnReply(service::SessionReply reply) {
  if (phase_ != Phase::kHandling) return;  // closed meanwhile (stopped, aborted)
  if (reply.messages.empty()) return reply.close ? StartShutdown() : WaitForFrame();
  Send(std::move(reply.messages), reply.close, options_.write_timeout);
}

void ServerSession::ProtocolError(const util::Status& status) {
  stats_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
  spdlog::debug("connection #{} from {}: protocol error: {}", id_, peer_,
                protocol::RedactPhoneNumbers(status.ToString()));
  DisarmDeadline();
  Send(OneMessage(protocol::Error{protocol::FrameErrorCode(status), status.message()}),
       /*close_after=*/true, options_.close_timeout);
}

void ServerSession::Send(std::vector<protocol::Message> messages, bool close_after,
                         std::chrono::milliseconds timeout) {
  phase_ = Phase::kWriting;
  close_after_write_ = close_after;
  frames_in_write_ = 0;
  util::WipeString(write_buffer_);
  for (const protocol::Message& message : messages) {
    util::Result<std::string> frame = protocol::EncodeFrame(message);
    if (!frame.ok()) {
      spdlog::error("connection #{} from {}: cannot encode a {} reply: {}", id_, peer_,
                    protocol::MessageName(protocol::TypeOf(message)), frame.status().ToString());
      return CloseNow();
    }
    protocol::AppendWiping(write_buffer_, *frame);
    util::WipeString(*frame);
    ++frames_in_write_;
    if (write_buffer_.size() > options_.max_pending_write_bytes) {
      spdlog::warn("connection #{} from {}: reply exceeds max_pending_write_bytes ({}); closing",
                   id_, peer_, options_.max_pending_write_bytes);
      util::WipeString(write_buffer_);
      return CloseNow();
    }
  }
  stream_.ExpiresAfter(timeout);
  stream_.AsyncWrite(asio::buffer(write_buffer_),
                     beast::bind_front_handler(&ServerSession::OnWrite, shared_from_this()));
}

void ServerSession::OnWrite(error_code ec, std::size_t /*bytes*/) {
  util::WipeString(write_buffer_);
  if (phase_ != Phase::kWriting) return;
  if (ec) {
    if (ec == beast::error::timeout) {
      stats_.timeouts.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("connection #{} from {}: write timed out (the client is not reading)", id_,
                    peer_);
    } else {
      spdlog::debug("connection #{} from {}: write failed: {}", id_, peer_,
                    DescribeTlsError(ec, stream_.native_handle()));
    }
    return CloseNow();
  }
  stream_.ExpiresNever();
  stats_.frames_out.fetch_add(frames_in_write_, std::memory_order_relaxed);
  if (close_after_write_) return StartShutdown();
  WaitForFrame();
}

// Sends our close_notify and waits, briefly, for the client's.
void ServerSession::StartShutdown() {
  phase_ = Phase::kClosing;
  DisarmDeadline();
  stream_.ExpiresAfter(options_.close_timeout);
  stream_.AsyncShutdown(beast::bind_front_handler(&ServerSession::OnShutdown, shared_from_this()));
}

void ServerSession::OnShutdown(error_code ec) {
  if (phase_ != Phase::kClosing) return;
  if (ec == beast::error::timeout) stats_.timeouts.fetch_add(1, std::memory_order_relaxed);
  if (ec && ec != asio::error::eof && !IsTruncation(ec)) {
    spdlog::debug("connection #{} from {}: TLS shutdown: {}", id_, peer_,
                  DescribeTlsError(ec, stream_.native_handle()));
  }
  CloseNow();
}

void ServerSession::CloseNow() {
  if (phase_ == Phase::kDone) return;
  phase_ = Phase::kDone;
  DisarmDeadline();
  // The buffers are wiped by OnWrite and the destructor: an operation still pending may
  // refer to them until it completes.
  stream_.Close();
  spdlog::debug("connection #{} from {}: closed", id_, peer_);
  app_->Closed();
  owner_.SessionFinished(id_, peer_);
}

void ServerSession::WipeReadBuffer() {
  if (read_buffer_) OPENSSL_cleanse(read_buffer_.get(), read_end_);
  read_begin_ = 0;
  read_end_ = 0;
}

}  // namespace bluetrace::net::detail
