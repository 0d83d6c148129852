// net::detail::TlsSocket's deadlines, on a real loopback connection: an operation past its
// deadline completes with timeout, and a deadline that expired just before the socket went
// away (its handler already queued on the strand) touches nothing of the socket (run under
// the asan preset, the use after free this guards against is an error).
#include "tls_socket.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/error.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>

namespace bluetrace::net::detail {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// A server-side TlsSocket on a strand, connected over loopback to a plain TCP peer that
// never speaks.
struct Connected {
  asio::io_context io;
  asio::strand<asio::io_context::executor_type> strand = asio::make_strand(io);
  asio::ssl::context tls{asio::ssl::context::tls_server};
  tcp::socket peer{io};
  std::unique_ptr<TlsSocket> socket;

  Connected() {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    peer.connect(acceptor.local_endpoint());
    tcp::socket accepted(strand);
    acceptor.accept(accepted);
    socket = std::make_unique<TlsSocket>(std::move(accepted), tls);
  }
};

TEST(TlsSocketTest, AReadPastItsDeadlineCompletesWithTimeout) {
  Connected c;
  std::optional<boost::system::error_code> result;
  std::array<std::uint8_t, 64> buffer{};
  asio::post(c.strand, [&] {
    c.socket->ExpiresAfter(20ms);
    c.socket->AsyncReadSome(asio::buffer(buffer),
                            [&](boost::system::error_code ec, std::size_t) { result = ec; });
  });
  c.io.run_for(10s);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, boost::beast::error::timeout);
}

TEST(TlsSocketTest, ADeadlineQueuedAsTheSocketGoesAwayTouchesNothing) {
  for (int round = 0; round < 5; ++round) {
    Connected c;
    // The deadline expires while the strand is busy; the other thread's reactor then queues
    // its handler (success) behind the job that destroys the socket.
    asio::post(c.strand, [&] {
      c.socket->ExpiresAfter(1ms);
      asio::post(c.strand, [&] {
        std::this_thread::sleep_for(30ms);
        c.socket.reset();
      });
    });
    std::thread other([&] { c.io.run_for(2s); });
    c.io.run_for(2s);
    other.join();
    EXPECT_EQ(c.socket, nullptr);
  }
}

}  // namespace
}  // namespace bluetrace::net::detail
