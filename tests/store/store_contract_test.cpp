// Runs the storage contract suites (tests/store/contract/) against every backend: today the
// file backend, each test in a fresh state directory.
#include <memory>
#include <string>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/files/audit_log.hpp"
#include "bluetrace/store/files/file_audit_trail.hpp"
#include "bluetrace/store/files/file_device_store.hpp"
#include "bluetrace/store/files/file_lockout_store.hpp"
#include "bluetrace/store/files/file_report_store.hpp"
#include "bluetrace/store/files/file_tempid_store.hpp"
#include "bluetrace/store/files/file_user_store.hpp"
#include "bluetrace/store/files/state_dir.hpp"
#include "contract/backend_harness.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::test {
namespace {

// Every handle opens the state directory as the server and bluetrace-admin do: with the
// inter-process locks.
class FileBackendHarness final : public BackendHarness {
 public:
  std::unique_ptr<store::UserStore> OpenUsers() override {
    return Must(store::FileUserStore::Open(fs_, dir_.credentials(), kFast, random(),
                                           dir_.credentials_lock()));
  }
  std::unique_ptr<store::LockoutStore> OpenLockouts(const store::LockoutPolicy& p) override {
    return Must(
        store::FileLockoutStore::Open(fs_, dir_.lockouts(), p, clock(), dir_.lockouts_lock()));
  }
  std::unique_ptr<store::TempIdStore> OpenTempIds(std::int64_t retention_seconds) override {
    store::TempIdStoreOptions options;
    options.path = dir_.tempids();
    options.retention_seconds = retention_seconds;
    return Must(store::FileTempIdStore::Open(fs_, clock(), options));
  }
  std::unique_ptr<store::ReportStore> OpenReports() override {
    return Must(store::FileReportStore::Open(fs_, dir_.reports()));
  }
  std::unique_ptr<store::DeviceStore> OpenDevices() override {
    return Must(store::FileDeviceStore::Open(fs_, clock(), dir_.devices()));
  }
  std::unique_ptr<store::AuditTrail> OpenAudit() override {
    return Must(
        store::FileAuditTrail::Open(fs_, clock(), dir_.audit_log(), dir_.audit_lock(), nullptr));
  }
  std::vector<std::string> AuditRecords() override {
    std::vector<std::string> out;
    auto read = store::AuditLog::Read(fs_, dir_.audit_log(), [&](const store::AuditRecord& r) {
      std::string line = r.event;
      for (const auto& [k, v] : r.fields) line += " " + k + "=" + v;
      out.push_back(std::move(line));
    });
    EXPECT_TRUE(read.ok() && read->ok()) << (read.ok() ? read->problem : read.status().ToString());
    return out;
  }
  bool concurrent_tempid_writers() const override { return false; }

 private:
  static constexpr store::Argon2Params kFast{.memory_kib = 8, .iterations = 1, .parallelism = 1};

  template <typename T>
  static std::unique_ptr<T> Must(util::Result<std::unique_ptr<T>> r) {
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  TempDir tmp_;
  store::StateDir dir_{tmp_.path()};
  store::PosixFileSystem& fs_ = store::PosixFileSystem::Instance();
};

}  // namespace

std::vector<BackendCase> ContractBackends() {
  return {{"Files", [] { return std::make_unique<FileBackendHarness>(); }}};
}

namespace {
std::string NameOf(const ::testing::TestParamInfo<BackendCase>& info) { return info.param.name; }
}  // namespace

INSTANTIATE_TEST_SUITE_P(Backends, UserStoreContract, ::testing::ValuesIn(ContractBackends()),
                         NameOf);
INSTANTIATE_TEST_SUITE_P(Backends, LockoutStoreContract, ::testing::ValuesIn(ContractBackends()),
                         NameOf);
INSTANTIATE_TEST_SUITE_P(Backends, TempIdStoreContract, ::testing::ValuesIn(ContractBackends()),
                         NameOf);
INSTANTIATE_TEST_SUITE_P(Backends, ReportStoreContract, ::testing::ValuesIn(ContractBackends()),
                         NameOf);
INSTANTIATE_TEST_SUITE_P(Backends, DeviceStoreContract, ::testing::ValuesIn(ContractBackends()),
                         NameOf);
INSTANTIATE_TEST_SUITE_P(Backends, AuditTrailContract, ::testing::ValuesIn(ContractBackends()),
                         NameOf);

}  // namespace bluetrace::test
