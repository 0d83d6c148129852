// Fuzzes a whole server session fed over an in-memory stream: the input is a byte stream
// from a client, cut into reads of sizes taken from the input, decoded by FrameDecoder
// and handed to a real ProtocolSession of a ReportingService on a temporary state
// directory (original sample users, a ManualClock, fast Argon2). Invariants: nothing
// crashes or hangs, every message gets exactly one reply, and every reply encodes into a
// valid frame.
#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <future>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "bluetrace/protocol/frame_decoder.hpp"
#include "bluetrace/protocol/messages.hpp"
#include "bluetrace/service/reporting_service.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"

namespace {

using namespace bluetrace;  // NOLINT

constexpr char kCredentials[] =
    "+61410666666 kara1234\r\n+61410777777 datha457\r\n+61410888888 comp3331\r\n"
    "+61410999999 bada4568";
constexpr char kTempIds[] =
    "+61410999999 12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\r\n"
    "+61410888888 12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05\r\n";

struct World {
  std::string dir;
  util::ManualClock clock{1589391906};  // 13/05/2020 17:45:06 UTC
  service::NullConsole console;
  std::unique_ptr<service::ReportingService> service;
  int uses = 0;

  World() {
    spdlog::set_level(spdlog::level::off);
    char tmpl[] = "/tmp/bluetrace-session-fuzz-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) abort();
    dir = tmpl;
    Reset();
  }
  ~World() {
    service.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  // A fresh state directory now and then, so registrations and TempIDs do not pile up.
  void Reset() {
    service.reset();
    auto& fs = store::PosixFileSystem::Instance();
    for (const char* f : {"credentials.txt", "tempIDs.txt", "lockouts.txt"}) {
      (void)fs.RemoveFile(store::JoinPath(dir, f));
    }
    if (!fs.ReplaceFileAtomically(store::JoinPath(dir, "credentials.txt"), kCredentials, 0600)
             .ok() ||
        !fs.ReplaceFileAtomically(store::JoinPath(dir, "tempIDs.txt"), kTempIds, 0600).ok()) {
      abort();
    }
    service::ServerConfig c;
    c.state_dir = dir;
    c.argon2_memory_kib = 8;
    c.argon2_iterations = 1;
    c.max_frame_bytes = 4096;
    c.max_upload_bytes = 8192;
    c.tempid_retention_seconds = 10L * 365 * 24 * 3600;
    c.login_rate = c.tempid_rate = c.connection_rate = {1e6, 1e6};
    auto s = service::ReportingService::Open(
        c, service::ServiceEnv{fs, clock, util::OpenSslRandom::Instance(), console});
    if (!s.ok()) {
      std::fprintf(stderr, "session fuzz: %s\n", s.status().ToString().c_str());
      abort();
    }
    service = std::move(*s);
    uses = 0;
  }
};

World& TheWorld() {
  static World world;
  return world;
}

// One reply, within a generous bound (a hang is a finding).
service::SessionReply HandleOne(service::Session& session, protocol::Message m) {
  auto promise = std::make_shared<std::promise<service::SessionReply>>();
  auto future = promise->get_future();
  session.Handle(std::move(m),
                 [promise](service::SessionReply r) { promise->set_value(std::move(r)); });
  if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) abort();
  return future.get();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = TheWorld();
  if (++w.uses > 2000) w.Reset();
  w.clock.AdvanceSeconds(3600);  // blocks from earlier inputs run out
  auto session = w.service->NewSession("127.0.0.1");
  protocol::FrameDecoder decoder(4096);

  std::size_t pos = 0;
  bool open = true;
  while (open && pos < size) {
    // The first byte of each read says how long the read is (1..64 bytes).
    const std::size_t n = std::min<std::size_t>(size - pos - 1, (data[pos] % 64) + 1);
    ++pos;
    std::span<const std::uint8_t> rest(data + pos, n);
    pos += n;
    while (open) {
      rest = rest.subspan(decoder.Feed(rest));
      auto m = decoder.NextMessage();
      if (!m.ok()) {
        open = false;
        break;
      }
      if (!m->has_value()) break;
      service::SessionReply reply = HandleOne(*session, std::move(**m));
      for (const auto& out : reply.messages) {
        if (!protocol::EncodeFrame(out, protocol::kDefaultMaxFrameBytes).ok()) abort();
      }
      if (reply.close) open = false;
    }
  }
  session->Closed();
  return 0;
}
