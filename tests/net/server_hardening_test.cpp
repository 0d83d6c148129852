// net::Server against hostile or broken clients over real sockets on 127.0.0.1: no TLS,
// garbage and oversized frames, unknown types, truncated frames, silence at every stage,
// and clients that never read. Each must end in a closed connection, one Session::Closed()
// and a server that still serves the next client.
#include <gtest/gtest.h>
#include <unistd.h>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <string>
#include <vector>

#include "net/server_fixture.hpp"
#include "support/no_free_descriptors.hpp"

namespace bluetrace::net::testing {
namespace {

using protocol::ErrorCode;
using util::StatusCode;

class ServerHardeningTest : public ServerFixture {
 protected:
  // A well-behaved client is still served.
  void ExpectStillServing() {
    auto c = Connect();
    ASSERT_TRUE(c);
    ExpectPong(*c, 77);
  }
};

TEST_F(ServerHardeningTest, PlainTextWithoutTlsIsClosed) {
  StartServer();
  RawSocket raw(server_->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Send("hello\r\n"));
  EXPECT_TRUE(raw.WaitForClose(3s));
  ASSERT_TRUE(WaitFor([&] { return server_->stats().tls_handshakes_failed.load() == 1; }));
  ExpectStillServing();
}

TEST_F(ServerHardeningTest, SilentTcpClientIsClosedByTheHandshakeDeadline) {
  options_.handshake_timeout = 500ms;
  StartServer();
  RawSocket raw(server_->port());
  ASSERT_TRUE(raw.connected());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(raw.WaitForClose(3s));
  EXPECT_GE(Since(start), 400ms);
  EXPECT_LT(Since(start), 2s);
  // The socket closes before the counters move: wait for them.
  EXPECT_TRUE(WaitFor([&] { return server_->stats().timeouts.load() == 1; }));
  ExpectStillServing();
}

TEST_F(ServerHardeningTest, ZeroLengthFrameIsABadFrame) {
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->SendRaw(RawFrame(0, "")).ok());
  ExpectError(*c, ErrorCode::kBadFrame);
  ExpectClosedByServer(*c);
  EXPECT_EQ(server_->stats().protocol_errors.load(), 1u);
  ExpectStillServing();
}

TEST_F(ServerHardeningTest, MalformedBodyIsABadFrame) {
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c);
  ExpectPong(*c, 1);
  // A Ping whose u64 nonce is cut to 3 bytes.
  ASSERT_TRUE(c->SendRaw(RawFrame(4, std::string("\x50\x01\x02\x03", 4))).ok());
  ExpectError(*c, ErrorCode::kBadFrame);
  ExpectClosedByServer(*c);
}

TEST_F(ServerHardeningTest, OversizedDeclaredLengthIsRefusedBeforeItsBody) {
  options_.max_frame_bytes = 1024;
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c);
  // Only the header of a 1 GiB frame: the refusal must not wait for (or store) the body.
  ASSERT_TRUE(c->SendRaw(RawFrame(1u << 30, "")).ok());
  ExpectError(*c, ErrorCode::kTooLarge, 2s);
  ExpectClosedByServer(*c);
  ExpectStillServing();
}

TEST_F(ServerHardeningTest, FrameJustOverTheLimitIsTooLarge) {
  options_.max_frame_bytes = 1024;
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send(protocol::UploadChunk{std::string(1024, 'a')}).ok());
  ExpectError(*c, ErrorCode::kTooLarge);
  ExpectClosedByServer(*c);
}

TEST_F(ServerHardeningTest, UnknownMessageTypeIsReported) {
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->SendRaw(RawFrame(1, "\x99")).ok());
  ExpectError(*c, ErrorCode::kUnknownMessage);
  ExpectClosedByServer(*c);
  ExpectStillServing();
}

TEST_F(ServerHardeningTest, TruncatedFrameThenSilenceEndsAtTheLoginDeadline) {
  options_.login_timeout = 1s;
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(c->SendRaw(std::string("\x00\x00\x00\x09\x50\x01", 6)).ok());
  ExpectError(*c, ErrorCode::kTimeout, 3s);
  EXPECT_LT(Since(start), 2s);
  ExpectClosedByServer(*c);
  EXPECT_EQ(server_->stats().timeouts.load(), 1u);
}

// The deadlines below are Asio timers of the transport, which has no injected clock: real
// time must pass. They are kept short (hundreds of ms), with the gaps between frames well
// inside them so that a loaded machine does not make the tests flaky.
TEST_F(ServerHardeningTest, LoginDeadlineCountsFromAcceptNotFromTheLastFrame) {
  options_.login_timeout = 500ms;
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c);
  const auto start = std::chrono::steady_clock::now();
  // Activity without a login does not extend the deadline: a frame every 100 ms, for
  // 300 ms in all (the gaps are what must take real time).
  for (int i = 0; i < 3; ++i) {
    ExpectPong(*c, static_cast<std::uint64_t>(i));
    std::this_thread::sleep_for(100ms);
  }
  ExpectError(*c, ErrorCode::kTimeout, 3s);
  EXPECT_GE(Since(start), 400ms);
  EXPECT_LT(Since(start), 2s);
  ExpectClosedByServer(*c);
}

TEST_F(ServerHardeningTest, PipelinedFramesDoNotOutrunTheLoginDeadline) {
  options_.login_timeout = 1s;
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c);
  // The first request is answered after the deadline; the one buffered behind it is not
  // handled at all.
  ASSERT_TRUE(c->SendRaw(*protocol::EncodeFrame(protocol::Ping{kDelayBase + 1200}) +
                         *protocol::EncodeFrame(protocol::Ping{2}))
                  .ok());
  auto late = c->Receive(3s);
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  EXPECT_EQ(*late, Message{protocol::Pong{kDelayBase + 1200}});
  ExpectError(*c, ErrorCode::kTimeout, 1s);
  ExpectClosedByServer(*c);
  EXPECT_EQ(factory_.counters->handled.load(), 1);
}

TEST_F(ServerHardeningTest, IdleDeadlineAfterLoginIsResetByEachFrame) {
  options_.idle_timeout = 600ms;
  options_.login_timeout = 10s;
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(std::holds_alternative<protocol::Welcome>(
      CallOk(*c, protocol::Login{"+61410888888", util::SecretString(kPassword)})));
  // Real gaps (the idle timer is the transport's): 1 s in all, never 600 ms of silence.
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(250ms);
    ExpectPong(*c, static_cast<std::uint64_t>(i));
  }
  const auto start = std::chrono::steady_clock::now();
  ExpectError(*c, ErrorCode::kTimeout, 3s);
  EXPECT_GE(Since(start), 500ms);
  EXPECT_LT(Since(start), 2s);
  ExpectClosedByServer(*c);
}

TEST_F(ServerHardeningTest, ClientThatNeverReadsIsClosedByTheWriteDeadline) {
  options_.write_timeout = 1s;
  options_.max_pending_write_bytes = 64u << 20;
  factory_.big_reply_chunks = 24;  // 24 MB: far more than the socket buffers hold
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(c->Send(protocol::Ping{kBigNonce}).ok());
  ASSERT_TRUE(WaitFor([&] { return factory_.counters->closed.load() == 1; }, 5s));
  EXPECT_GE(Since(start), 900ms);
  EXPECT_EQ(server_->stats().timeouts.load(), 1u);
  EXPECT_EQ(server_->stats().frames_out.load(), 0u);
  ExpectStillServing();
}

TEST_F(ServerHardeningTest, ReplyOverThePendingWriteCapClosesTheConnection) {
  options_.max_pending_write_bytes = 1u << 20;
  factory_.big_reply_chunks = 2;  // 2 MB
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send(protocol::Ping{kBigNonce}).ok());
  auto next = c->Receive(3s);
  EXPECT_FALSE(next.ok());
  EXPECT_FALSE(c->is_open());
  EXPECT_TRUE(WaitFor([&] { return factory_.counters->closed.load() == 1; }));
  ExpectStillServing();
}

TEST_F(ServerHardeningTest, ClientVanishingMidFrameOrMidRequestIsCleanedUp) {
  StartServer();
  {
    auto mid_frame = Connect();
    ASSERT_TRUE(mid_frame);
    ASSERT_TRUE(mid_frame->SendRaw(std::string("\x00\x00\x10\x00\x31", 5)).ok());
    auto mid_request = Connect();
    ASSERT_TRUE(mid_request);
    ASSERT_TRUE(mid_request->Send(protocol::Ping{kDelayBase + 200}).ok());
    ASSERT_TRUE(WaitFor([&] { return factory_.counters->handled.load() == 1; }));
  }  // both close (close_notify) without waiting for anything
  ExpectNoOpenConnections();
  EXPECT_EQ(factory_.counters->closed.load(), 2);
  ExpectStillServing();
}

TEST_F(ServerHardeningTest, RawTcpResetDuringHandshakeIsCleanedUp) {
  StartServer();
  {
    RawSocket raw(server_->port());
    ASSERT_TRUE(raw.connected());
    // The start of a TLS record header, then the socket goes away.
    ASSERT_TRUE(raw.Send(std::string("\x16\x03\x01\x02\x00", 5)));
    ASSERT_TRUE(WaitFor([&] { return server_->stats().connections_accepted.load() == 1; }));
  }
  ExpectNoOpenConnections();
  ExpectStillServing();
}

// Out of descriptors, accept fails with EMFILE: the loop pauses between attempts instead of
// spinning, warns once rather than once per attempt, and takes the waiting connections
// once descriptors are free again.
TEST_F(ServerHardeningTest, AcceptOutOfDescriptorsPausesWarnsOnceAndRecovers) {
  if (!test::kNoFreeDescriptorsInThisBuild) GTEST_SKIP() << "sanitizers need descriptors too";
  auto log = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256);
  spdlog::default_logger()->sinks().push_back(log);
  StartServer();
  // Made before the descriptors run out; connecting takes no new one.
  constexpr int kClients = 3;
  std::vector<int> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server_->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  {
    test::NoFreeDescriptors exhausted;
    ASSERT_TRUE(exhausted.ok());
    for (int fd : clients) {
      ASSERT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    }
    // Several failed attempts, each after a pause.
    EXPECT_TRUE(WaitFor([&] { return server_->stats().accept_failures.load() >= 3; }));
  }
  // Descriptors are back: the connections waiting in the backlog are taken.
  EXPECT_TRUE(WaitFor([&] { return server_->stats().connections_accepted.load() == kClients; }))
      << server_->stats().connections_accepted.load();
  server_->Stop(0ms);
  spdlog::default_logger()->sinks().pop_back();
  for (int fd : clients) close(fd);

  int warnings = 0;
  for (const std::string& line : log->last_formatted()) {
    if (line.find("accept failed") == std::string::npos) continue;
    ++warnings;
    EXPECT_NE(line.find("accept failed on 127.0.0.1:" + std::to_string(server_->port()) +
                        ": Too many open files; pausing accepts for 100 ms"),
              std::string::npos)
        << line;
  }
  EXPECT_EQ(warnings, 1) << "one warning for a burst of failures, not one per attempt";
}

}  // namespace
}  // namespace bluetrace::net::testing
