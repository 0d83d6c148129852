// A lean load generator for the benchmarks: many client sessions (connect, TLS, a list of
// requests, close) multiplexed on one thread's event loop, each an Asio coroutine, instead
// of one blocking net::ClientConnection per thread. The bytes on the wire are the same as
// bluetrace-client's (protocol::EncodeFrame, protocol::FrameDecoder, the client TLS
// context); what it saves is the load generator's own share of the machine it shares with
// the server: one io_context for all sessions instead of one per connection, and no
// thread switch per request. Bench-only; one instance per thread, not thread-safe.
#pragma once

#include <openssl/crypto.h>

#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "bluetrace/net/tls_context.hpp"
#include "bluetrace/protocol/frame_decoder.hpp"
#include "bluetrace/protocol/messages.hpp"

namespace bluetrace::bench {

// What one session sends, in order; `check` says whether each reply is the expected one.
struct SessionScript {
  std::vector<protocol::Message> requests;
  std::function<bool(std::size_t index, const protocol::Message& reply)> check;
};

class EventLoopSessions {
 public:
  // Sessions go to `port` on 127.0.0.1 with `tls` (the client context, as
  // net::MakeClientContext makes it) and `options` (SNI for a DNS name, as the client).
  EventLoopSessions(std::shared_ptr<boost::asio::ssl::context> tls, net::TlsClientOptions options,
                    std::uint16_t port)
      : tls_(std::move(tls)), options_(std::move(options)), port_(port) {}

  // Runs `sessions` concurrent sessions on the calling thread, each starting a new one as
  // soon as the last ends, until `stop`; counts each finished session whose replies all
  // passed `script(i).check` in `done`, and each other in `failed`. Returns after the
  // sessions in flight at `stop` have ended, or after `limit` whatever they are doing.
  void Run(int sessions, const std::function<SessionScript(int)>& script,
           const std::atomic<bool>& stop, std::atomic<long>& done, std::atomic<long>& failed,
           std::chrono::seconds limit) {
    boost::asio::io_context io(1);
    for (int i = 0; i < sessions; ++i) {
      boost::asio::co_spawn(io, Loop(script(i), stop, done, failed), boost::asio::detached);
    }
    io.run_for(limit);
  }

 private:
  using Tcp = boost::asio::ip::tcp;
  using Stream = boost::asio::ssl::stream<Tcp::socket>;

  boost::asio::awaitable<void> Loop(SessionScript script, const std::atomic<bool>& stop,
                                    std::atomic<long>& done, std::atomic<long>& failed) {
    while (!stop.load()) {
      bool ok = false;
      try {
        ok = co_await Session(script);
      } catch (const std::exception&) {
        ok = false;
      }
      ++(ok ? done : failed);
    }
  }

  boost::asio::awaitable<bool> Session(const SessionScript& script) {
    namespace asio = boost::asio;
    const auto executor = co_await asio::this_coro::executor;
    Stream stream(executor, *tls_);
    co_await stream.next_layer().async_connect(
        Tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port_), asio::use_awaitable);
    stream.next_layer().set_option(Tcp::no_delay(true));
    if (!net::ConfigureClientStream(stream.native_handle(), options_).ok()) co_return false;
    co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    protocol::FrameDecoder decoder;
    std::array<std::uint8_t, 4096> buffer{};
    std::size_t begin = 0, end = 0;
    bool ok = true;
    for (std::size_t i = 0; i < script.requests.size() && ok; ++i) {
      auto frame = protocol::EncodeFrame(script.requests[i]);
      if (!frame.ok()) co_return false;
      co_await asio::async_write(stream, asio::buffer(*frame), asio::use_awaitable);
      for (;;) {
        begin += decoder.Feed(std::span<const std::uint8_t>(buffer.data() + begin, end - begin));
        auto next = decoder.NextMessage();
        if (!next.ok()) co_return false;
        if (next->has_value()) {
          ok = script.check(i, **next);
          break;
        }
        OPENSSL_cleanse(buffer.data(), end);
        begin = 0;
        end = co_await stream.async_read_some(asio::buffer(buffer), asio::use_awaitable);
      }
    }
    boost::system::error_code ignored;
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ignored));
    co_return ok;
  }

  std::shared_ptr<boost::asio::ssl::context> tls_;
  net::TlsClientOptions options_;
  std::uint16_t port_;
};

}  // namespace bluetrace::bench
