// A ReportingService on a temporary state directory with a ManualClock, a seeded Random
// and a capturing console, plus a way to drive a Session from memory and wait (bounded)
// for its reply.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/service/reporting_service.hpp"
#include "support/fake_random.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::test {

class ServiceHarness {
 public:
  ServiceHarness() : clock_(*protocol::ParseTimestamp("13/05/2020 17:50:00")), random_(42) {
    config.state_dir = dir.path();
    config.argon2_memory_kib = 8;  // fast hashes; the cost is tested in the store
    config.argon2_iterations = 1;
    config.block_duration_seconds = 60;
    config.login_rate = {1000.0, 1000.0};
    config.tempid_rate = {1000.0, 1000.0};
  }

  // Copies one of tests/data/original/ into the state directory.
  void UseOriginal(const std::string& name, const std::string& as = "") {
    CopyOriginalSample(dir.path(), name, as);
  }

  util::Status Open() {
    service.reset();
    auto s =
        service::ReportingService::Open(config, service::ServiceEnv{*fs, clock_, random_, console});
    if (!s.ok()) return s.status();
    service = std::move(*s);
    return util::Status::Ok();
  }

  std::unique_ptr<service::Session> NewSession(const std::string& peer = "127.0.0.1") {
    return service->NewSession(peer);
  }

  util::ManualClock& clock() { return clock_; }

  TempDir dir;
  service::ServerConfig config;
  store::FileSystem* fs = &store::PosixFileSystem::Instance();  // replace before Open()
  service::CapturingConsole console;
  std::unique_ptr<service::ReportingService> service;

 private:
  util::ManualClock clock_;
  SeededRandom random_;
};

// Hands `m` to the session and waits up to 20 s for its reply.
inline service::SessionReply Call(service::Session& session, protocol::Message m) {
  auto promise = std::make_shared<std::promise<service::SessionReply>>();
  auto future = promise->get_future();
  session.Handle(std::move(m),
                 [promise](service::SessionReply r) { promise->set_value(std::move(r)); });
  if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "the session did not answer within 20 s";
    return {};
  }
  return future.get();
}

// Whether `r` is exactly one message of type T (a test failure otherwise).
template <typename T>
bool IsOnly(const service::SessionReply& r) {
  EXPECT_EQ(r.messages.size(), 1u);
  if (r.messages.size() != 1 || !std::holds_alternative<T>(r.messages[0])) {
    ADD_FAILURE() << "expected " << protocol::MessageName(T::kType) << ", got "
                  << (r.messages.empty()
                          ? std::string("nothing")
                          : std::string(protocol::MessageName(protocol::TypeOf(r.messages[0]))));
    return false;
  }
  return true;
}

// The single message of a reply, as type T (fails the test otherwise).
template <typename T>
T Only(const service::SessionReply& r) {
  if (!IsOnly<T>(r)) return T{};
  return std::get<T>(r.messages[0]);
}
// The same for a reply no longer needed (move-only messages: DeviceWelcome).
template <typename T>
T Only(service::SessionReply&& r) {
  if (!IsOnly<T>(r)) return T{};
  return std::get<T>(std::move(r.messages[0]));
}

inline protocol::Login LoginMsg(const std::string& user, const std::string& password) {
  return protocol::Login{user, util::SecretString(password)};
}

}  // namespace bluetrace::test
