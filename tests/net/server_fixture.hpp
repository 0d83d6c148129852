// Test fixture for net::Server over real sockets on 127.0.0.0/8: a self-signed certificate
// in a TempDir, a scripted fake SessionFactory, TLS clients (net::ClientConnection) and
// plain TCP clients. Shared by server_transport_test.cpp and server_hardening_test.cpp.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bluetrace/net/certificate.hpp"
#include "bluetrace/net/client_connection.hpp"
#include "bluetrace/net/server.hpp"
#include "bluetrace/net/tls_context.hpp"
#include "bluetrace/protocol/messages.hpp"
#include "bluetrace/service/session.hpp"
#include "bluetrace/store/file_system.hpp"
#include "support/temp_dir.hpp"
#include "support/test_certificate.hpp"

namespace bluetrace::net::testing {

using namespace std::chrono_literals;
using protocol::Message;
using SslContextPtr = std::shared_ptr<boost::asio::ssl::context>;

// Pings whose nonce lies in [kDelayBase, kDelayBase + 60000) are answered after
// (nonce - kDelayBase) ms from another thread.
inline constexpr std::uint64_t kDelayBase = 1'000'000;
// A Ping with this nonce is answered with FakeFactory::big_reply_chunks UploadChunks of
// kBigChunkBytes each.
inline constexpr std::uint64_t kBigNonce = 0xB16;
inline constexpr std::size_t kBigChunkBytes = 1'000'000;
inline constexpr std::string_view kPassword = "correct horse";

// Shared by the factory and its sessions, which may outlive it (a pending `done`).
struct FakeCounters {
  std::atomic<int> created{0};
  std::atomic<int> closed{0};
  std::atomic<int> closed_twice{0};
  std::atomic<int> handled{0};
};

class FakeFactory;

// Hello -> HelloOk; Login -> Welcome (or WrongPassword); Ping -> Pong (delayed or big, see
// above); Logout -> LogoutOk and close; UploadEnd -> never answered; TempIdRequest -> an
// empty reply; anything else -> Error{kUnexpectedMessage}.
class FakeSession final : public service::Session {
 public:
  FakeSession(FakeFactory& factory, std::shared_ptr<FakeCounters> counters)
      : factory_(factory), counters_(std::move(counters)) {}
  void Handle(Message message, service::ReplyFn done) override;
  bool logged_in() const override { return logged_in_.load(); }
  void Closed() override {
    if (closed_calls_.fetch_add(1) == 0) {
      counters_->closed.fetch_add(1);
    } else {
      counters_->closed_twice.fetch_add(1);
    }
  }

 private:
  FakeFactory& factory_;
  std::shared_ptr<FakeCounters> counters_;
  std::atomic<bool> logged_in_{false};
  std::atomic<int> closed_calls_{0};
};

class FakeFactory final : public service::SessionFactory {
 public:
  ~FakeFactory() override {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
  }
  bool AdmitConnection(std::string_view /*peer*/) override { return admit.load(); }
  std::unique_ptr<service::Session> NewSession(std::string /*peer*/) override {
    counters->created.fetch_add(1);
    return std::make_unique<FakeSession>(*this, counters);
  }

  // Calls `done` with `reply` after `delay`, from a thread of its own.
  void ReplyLater(service::ReplyFn done, service::SessionReply reply,
                  std::chrono::milliseconds delay) {
    std::lock_guard lock(mu_);
    threads_.emplace_back([done = std::move(done), reply = std::move(reply), delay]() mutable {
      std::this_thread::sleep_for(delay);
      done(std::move(reply));
    });
  }
  // Keeps `done` without ever calling it.
  void Hold(service::ReplyFn done) {
    std::lock_guard lock(mu_);
    held_.push_back(std::move(done));
  }

  std::shared_ptr<FakeCounters> counters = std::make_shared<FakeCounters>();
  std::atomic<bool> admit{true};
  std::atomic<int> big_reply_chunks{16};

 private:
  std::mutex mu_;
  std::vector<std::thread> threads_;
  std::vector<service::ReplyFn> held_;
};

inline service::SessionReply One(Message message, bool close = false) {
  service::SessionReply reply;
  reply.messages.push_back(std::move(message));
  reply.close = close;
  return reply;
}

inline void FakeSession::Handle(Message message, service::ReplyFn done) {
  counters_->handled.fetch_add(1);
  if (std::holds_alternative<protocol::Hello>(message)) {
    return done(One(protocol::HelloOk{protocol::kMinProtocolVersion, "fake", 1u << 20, 0}));
  }
  if (auto* login = std::get_if<protocol::Login>(&message)) {
    if (login->password.view() != kPassword) return done(One(protocol::WrongPassword{2}));
    logged_in_ = true;
    return done(One(protocol::Welcome{login->user, std::string(protocol::kWelcomeText)}));
  }
  if (auto* ping = std::get_if<protocol::Ping>(&message)) {
    if (ping->nonce == kBigNonce) {
      service::SessionReply reply;
      for (int i = 0; i < factory_.big_reply_chunks.load(); ++i) {
        reply.messages.push_back(protocol::UploadChunk{std::string(kBigChunkBytes, 'x')});
      }
      return done(std::move(reply));
    }
    if (ping->nonce >= kDelayBase && ping->nonce < kDelayBase + 60'000) {
      const auto delay = std::chrono::milliseconds(ping->nonce - kDelayBase);
      return factory_.ReplyLater(std::move(done), One(protocol::Pong{ping->nonce}), delay);
    }
    return done(One(protocol::Pong{ping->nonce}));
  }
  if (std::holds_alternative<protocol::Logout>(message)) {
    logged_in_ = false;
    return done(One(protocol::LogoutOk{}, /*close=*/true));
  }
  if (std::holds_alternative<protocol::UploadEnd>(message)) return factory_.Hold(std::move(done));
  if (std::holds_alternative<protocol::TempIdRequest>(message)) {
    return done(service::SessionReply{});
  }
  done(One(protocol::Error{protocol::ErrorCode::kUnexpectedMessage, "not in this fake"}));
}

// Polls `pred` every 5 ms for at most `limit`.
inline bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

inline std::chrono::milliseconds Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

// A frame header (big-endian N) followed by `rest`.
inline std::string RawFrame(std::uint32_t n, std::string_view rest) {
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  out.append(rest);
  return out;
}

// A plain TCP client (no TLS) for input the TLS client cannot produce.
class RawSocket {
 public:
  explicit RawSocket(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawSocket() { ::close(fd_); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return connected_; }
  bool Send(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // True when the server closes (EOF or reset) within `limit`; data read is discarded.
  bool WaitForClose(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    char buf[4096];
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
    }
  }

 private:
  int fd_;
  bool connected_ = false;
};

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_path_ = dir_.File("server.crt");
    key_path_ = dir_.File("server.key");
    fingerprint_ = WriteCertificate(cert_path_, key_path_);
    tls_ = MakeContext(cert_path_, key_path_);
    // Short deadlines so the hardening tests run in about a second each.
    options_.bind_address = "127.0.0.1";
    options_.port = 0;
    options_.io_threads = 2;
    options_.handshake_timeout = 3s;
    options_.login_timeout = 5s;
    options_.idle_timeout = 5s;
    options_.write_timeout = 3s;
    options_.close_timeout = 500ms;
  }

  void TearDown() override {
    if (server_) server_->Stop(0ms);
    server_.reset();
    EXPECT_EQ(factory_.counters->closed.load(), factory_.counters->created.load())
        << "every Session must be closed";
    EXPECT_EQ(factory_.counters->closed_twice.load(), 0) << "Closed() called twice";
  }

  // Generates a self-signed pair into the two files; returns its fingerprint.
  std::string WriteCertificate(const std::string& cert, const std::string& key) {
    return test::WriteTestCertificate(cert, key);
  }

  SslContextPtr MakeContext(const std::string& cert, const std::string& key) {
    auto context = MakeServerContext(TlsServerOptions{cert, key, "1.3"}, fs_);
    EXPECT_TRUE(context.ok()) << context.status().ToString();
    return context.ok() ? *context : nullptr;
  }

  void StartServer() {
    server_ = std::make_unique<Server>(options_, tls_, factory_);
    util::Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    ASSERT_NE(server_->port(), 0);
  }

  // A client that verifies the server against our certificate.
  util::Result<std::unique_ptr<ClientConnection>> TryConnect(const std::string& local = "") {
    ClientConnectOptions options;
    options.timeout = 5s;
    options.local_address = local;
    return ClientConnection::Connect("127.0.0.1", server_->port(),
                                     TlsClientOptions{cert_path_, "127.0.0.1", "1.3"}, options);
  }
  std::unique_ptr<ClientConnection> Connect(const std::string& local = "") {
    auto connection = TryConnect(local);
    EXPECT_TRUE(connection.ok()) << connection.status().ToString();
    return connection.ok() ? std::move(*connection) : nullptr;
  }

  // Sends `request` and returns the reply, failing the test on a transport error.
  static Message CallOk(ClientConnection& c, const Message& request) {
    auto reply = c.Call(request, 5s);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return reply.ok() ? std::move(*reply) : Message{protocol::Error{}};
  }
  static void ExpectPong(ClientConnection& c, std::uint64_t nonce) {
    EXPECT_EQ(CallOk(c, protocol::Ping{nonce}), Message{protocol::Pong{nonce}});
  }
  // The next message must be Error{code}.
  static void ExpectError(ClientConnection& c, protocol::ErrorCode code,
                          std::chrono::milliseconds limit = 5s) {
    auto reply = c.Receive(limit);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    const auto* error = std::get_if<protocol::Error>(&*reply);
    ASSERT_NE(error, nullptr) << "got " << protocol::MessageName(protocol::TypeOf(*reply));
    EXPECT_EQ(error->code, code) << error->message;
  }
  // The server must end the connection within `limit`.
  static void ExpectClosedByServer(ClientConnection& c, std::chrono::milliseconds limit = 5s) {
    auto next = c.Receive(limit);
    ASSERT_FALSE(next.ok()) << "got " << protocol::MessageName(protocol::TypeOf(*next));
    EXPECT_NE(next.status().message().find("closed by the server"), std::string::npos)
        << next.status().ToString();
    EXPECT_FALSE(c.is_open());
  }
  void ExpectNoOpenConnections() {
    EXPECT_TRUE(WaitFor([&] { return server_->stats().connections_open.load() == 0; }))
        << server_->stats().connections_open.load() << " still open";
  }

  store::PosixFileSystem& fs_ = store::PosixFileSystem::Instance();
  test::TempDir dir_;
  std::string cert_path_;
  std::string key_path_;
  std::string fingerprint_;
  SslContextPtr tls_;
  ServerOptions options_;
  FakeFactory factory_;  // outlives server_
  std::unique_ptr<Server> server_;
};

}  // namespace bluetrace::net::testing
