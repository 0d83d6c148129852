// Runs the storage contract suites (tests/store/contract/) against every backend: the file
// backend, each test in a fresh state directory, and the PostgreSQL backend, each test in a
// fresh database of a throwaway cluster.
#include <memory>
#include <string>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/files/audit_log.hpp"
#include "bluetrace/store/files/file_audit_trail.hpp"
#include "bluetrace/store/files/file_contact_status_store.hpp"
#include "bluetrace/store/files/file_device_store.hpp"
#include "bluetrace/store/files/file_lockout_store.hpp"
#include "bluetrace/store/files/file_report_store.hpp"
#include "bluetrace/store/files/file_staff_store.hpp"
#include "bluetrace/store/files/file_tempid_store.hpp"
#include "bluetrace/store/files/file_upload_code_store.hpp"
#include "bluetrace/store/files/file_user_store.hpp"
#include "bluetrace/store/files/state_dir.hpp"
#include "bluetrace/store/postgres/pg_audit_trail.hpp"
#include "bluetrace/store/postgres/pg_contact_status_store.hpp"
#include "bluetrace/store/postgres/pg_device_store.hpp"
#include "bluetrace/store/postgres/pg_lockout_store.hpp"
#include "bluetrace/store/postgres/pg_pool.hpp"
#include "bluetrace/store/postgres/pg_report_store.hpp"
#include "bluetrace/store/postgres/pg_staff_store.hpp"
#include "bluetrace/store/postgres/pg_tempid_store.hpp"
#include "bluetrace/store/postgres/pg_upload_code_store.hpp"
#include "bluetrace/store/postgres/pg_user_store.hpp"
#include "bluetrace/util/digest.hpp"
#include "contract/backend_harness.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace::test {
namespace {

constexpr store::Argon2Params kFast{.memory_kib = 8, .iterations = 1, .parallelism = 1};

// The store `r` holds; nullptr with a test failure when it is an error.
template <typename T>
std::unique_ptr<T> Must(util::Result<std::unique_ptr<T>> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

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
  std::unique_ptr<store::UploadCodeStore> OpenUploadCodes() override {
    return Must(
        store::FileUploadCodeStore::Open(fs_, dir_.upload_codes(), dir_.upload_codes_lock()));
  }
  std::unique_ptr<store::LockoutStore> OpenCodeFailures(const store::LockoutPolicy& p) override {
    return Must(store::FileLockoutStore::Open(fs_, dir_.code_failures(), p, clock(),
                                              dir_.code_failures_lock()));
  }
  bool concurrent_tempid_writers() const override { return false; }
  std::unique_ptr<store::StaffStore> OpenStaff() override {
    return Must(store::FileStaffStore::Open(fs_, dir_.staff(), dir_.staff_lock()));
  }
  std::unique_ptr<store::ContactStatusStore> OpenContactStatuses() override {
    return Must(store::FileContactStatusStore::Open(fs_, dir_.contact_status(),
                                                    dir_.contact_status_lock()));
  }
  bool shared_sessions() const override { return false; }

 private:
  TempDir tmp_;
  store::StateDir dir_{tmp_.path()};
  store::PosixFileSystem& fs_ = store::PosixFileSystem::Instance();
};

// One fresh database per harness, created (and migrated) at the first Open*(), so a
// skipped test starts no cluster. Every handle gets its own pool, as another server
// instance would.
class PostgresBackendHarness final : public BackendHarness {
 public:
  std::unique_ptr<store::UserStore> OpenUsers() override {
    store::PgPool* pool = NewPool();
    if (pool == nullptr) return nullptr;
    return Must(store::PgUserStore::Open(*pool, kFast, random()));
  }
  std::unique_ptr<store::LockoutStore> OpenLockouts(const store::LockoutPolicy& p) override {
    store::PgPool* pool = NewPool();
    if (pool == nullptr) return nullptr;
    return Must(store::PgLockoutStore::Open(*pool, p, clock()));
  }
  std::unique_ptr<store::TempIdStore> OpenTempIds(std::int64_t retention_seconds) override {
    store::PgPool* pool = NewPool();
    if (pool == nullptr) return nullptr;
    return Must(
        store::PgTempIdStore::Open(*pool, clock(), {.retention_seconds = retention_seconds}));
  }
  std::unique_ptr<store::ReportStore> OpenReports() override {
    store::PgPool* pool = NewPool();
    if (pool == nullptr) return nullptr;
    return store::PgReportStore::Open(*pool);
  }
  std::unique_ptr<store::DeviceStore> OpenDevices() override {
    store::PgPool* pool = NewPool();
    if (pool == nullptr) return nullptr;
    return store::PgDeviceStore::Open(*pool, clock());
  }
  std::unique_ptr<store::AuditTrail> OpenAudit() override {
    store::PgPool* pool = NewPool();
    if (pool == nullptr) return nullptr;
    return store::PgAuditTrail::Open(*pool, clock());
  }
  // The rows in seq order written as audit.log lines (as `db export` writes them) and read
  // back by AuditLog::Read, which checks the chain from the lowest seq (an anchor after a
  // prune) as it checks the file.
  std::vector<std::string> AuditRecords() override {
    std::vector<std::string> out;
    if (!db_) return out;
    auto rows = db_->conn().Exec("read audit",
                                 "SELECT seq, time, event, fields, encode(prev_hash, 'hex'), "
                                 "encode(hash, 'hex') FROM audit ORDER BY seq");
    if (!rows.ok()) {
      ADD_FAILURE() << rows.status().ToString();
      return out;
    }
    std::string text;
    for (int i = 0; i < rows->rows(); ++i) {
      const std::string fields(rows->Get(i, 3));
      text +=
          store::AuditLog::FormatRecordLine(
              std::stoull(std::string(rows->Get(i, 0))), std::stoll(std::string(rows->Get(i, 1))),
              std::string(rows->Get(i, 2)) + (fields.empty() ? "" : " " + fields), rows->Get(i, 4),
              rows->Get(i, 5)) +
          "\n";
    }
    TempDir tmp;
    WriteFileForTest(tmp.File("audit.log"), text);
    auto read = store::AuditLog::Read(store::PosixFileSystem::Instance(), tmp.File("audit.log"),
                                      [&](const store::AuditRecord& r) {
                                        std::string line = r.event;
                                        for (const auto& [k, v] : r.fields)
                                          line += " " + k + "=" + v;
                                        out.push_back(std::move(line));
                                      });
    EXPECT_TRUE(read.ok() && read->ok())
        << (read.ok() ? read->problem + " at line " + std::to_string(read->bad_line)
                      : read.status().ToString());
    return out;
  }
  std::unique_ptr<store::UploadCodeStore> OpenUploadCodes() override {
    store::PgPool* pool = NewPool();
    if (pool == nullptr) return nullptr;
    return store::PgUploadCodeStore::Open(*pool);
  }
  std::unique_ptr<store::LockoutStore> OpenCodeFailures(const store::LockoutPolicy& p) override {
    store::PgPool* pool = NewPool();
    if (pool == nullptr) return nullptr;
    return Must(
        store::PgLockoutStore::Open(*pool, p, clock(), store::PgLockoutStore::kUploadCodeTable));
  }
  bool concurrent_tempid_writers() const override { return true; }
  std::unique_ptr<store::StaffStore> OpenStaff() override {
    store::PgPool* pool = NewPool();
    if (pool == nullptr) return nullptr;
    return store::PgStaffStore::Open(*pool);
  }
  std::unique_ptr<store::ContactStatusStore> OpenContactStatuses() override {
    store::PgPool* pool = NewPool();
    if (pool == nullptr) return nullptr;
    return store::PgContactStatusStore::Open(*pool);
  }
  bool shared_sessions() const override { return true; }

 private:
  // A new pool on this harness's database (created and migrated on first use); owned by
  // the harness, which outlives the stores of a test. nullptr with a test failure when
  // PostgreSQL is not there.
  store::PgPool* NewPool() {
    if (!db_) db_ = FreshPgDatabase::Create();
    return db_ ? db_->NewPool() : nullptr;
  }

  // The stores a test opens live in its body, so they are gone before its pools.
  std::unique_ptr<FreshPgDatabase> db_;
};

}  // namespace

std::vector<BackendCase> ContractBackends() {
  return {{"Files", [] { return std::make_unique<FileBackendHarness>(); }},
          {"Postgres", [] { return std::make_unique<PostgresBackendHarness>(); }}};
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
INSTANTIATE_TEST_SUITE_P(Backends, UploadCodeStoreContract, ::testing::ValuesIn(ContractBackends()),
                         NameOf);
INSTANTIATE_TEST_SUITE_P(Backends, StaffStoreContract, ::testing::ValuesIn(ContractBackends()),
                         NameOf);
INSTANTIATE_TEST_SUITE_P(Backends, ContactStatusStoreContract,
                         ::testing::ValuesIn(ContractBackends()), NameOf);

}  // namespace bluetrace::test
