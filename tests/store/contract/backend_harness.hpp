// The contract suites of the storage interfaces (store/*_store.hpp, store/audit_trail.hpp):
// written against the interfaces only, and instantiated for every backend in
// tests/store/store_contract_test.cpp, so a new backend is proven by the same tests.
//
// A BackendHarness is one empty storage (a fresh state directory, a fresh database). Each
// Open*() call returns another handle on that same storage, as another process (a second
// server instance, bluetrace-admin) would open it.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "bluetrace/store/audit_trail.hpp"
#include "bluetrace/store/contact_status_store.hpp"
#include "bluetrace/store/device_store.hpp"
#include "bluetrace/store/lockout_store.hpp"
#include "bluetrace/store/report_store.hpp"
#include "bluetrace/store/staff_store.hpp"
#include "bluetrace/store/tempid_store.hpp"
#include "bluetrace/store/upload_code_store.hpp"
#include "bluetrace/store/user_store.hpp"
#include "bluetrace/util/clock.hpp"
#include "support/fake_random.hpp"

namespace bluetrace::test {

enum class StoreKind {
  kUsers,
  kLockouts,
  kTempIds,
  kReports,
  kDevices,
  kAudit,
  kUploadCodes,
  kStaff,
  kContactStatuses
};

class BackendHarness {
 public:
  virtual ~BackendHarness() = default;

  // Whether this backend implements the store of `kind` (all of them unless overridden).
  virtual bool has(StoreKind /*kind*/) const { return true; }

  virtual std::unique_ptr<store::UserStore> OpenUsers() = 0;
  virtual std::unique_ptr<store::LockoutStore> OpenLockouts(const store::LockoutPolicy& p) = 0;
  virtual std::unique_ptr<store::TempIdStore> OpenTempIds(std::int64_t retention_seconds) = 0;
  virtual std::unique_ptr<store::ReportStore> OpenReports() = 0;
  virtual std::unique_ptr<store::DeviceStore> OpenDevices() = 0;
  virtual std::unique_ptr<store::AuditTrail> OpenAudit() = 0;
  virtual std::unique_ptr<store::UploadCodeStore> OpenUploadCodes() = 0;
  // The wrong-upload-code counts: a lockout store apart from the login one.
  virtual std::unique_ptr<store::LockoutStore> OpenCodeFailures(const store::LockoutPolicy& p) = 0;
  virtual std::unique_ptr<store::StaffStore> OpenStaff() = 0;
  virtual std::unique_ptr<store::ContactStatusStore> OpenContactStatuses() = 0;
  // Whether sessions made through one handle are found through another (several server
  // instances on one storage); the file backend keeps them in the handle.
  virtual bool shared_sessions() const = 0;
  // The records of the audit trail as "<event> <key>=<value>..." lines, oldest first,
  // after checking that they form one unbroken chain (a test failure otherwise).
  virtual std::vector<std::string> AuditRecords() = 0;

  // True when several handles may write TempIDs at once (several server instances on one
  // storage); the file backend has one writing server per state directory.
  virtual bool concurrent_tempid_writers() const = 0;

  util::ManualClock& clock() { return clock_; }
  SeededRandom& random() { return random_; }

 private:
  util::ManualClock clock_{1'600'000'000};
  SeededRandom random_{42};
};

struct BackendCase {
  std::string name;  // a GoogleTest name: letters and digits
  std::function<std::unique_ptr<BackendHarness>()> make;
};

inline void PrintTo(const BackendCase& c, std::ostream* os) { *os << c.name; }

// Every backend the suites run against (store_contract_test.cpp).
std::vector<BackendCase> ContractBackends();

// The fixture of every suite: a fresh storage per test; skipped when the backend lacks
// the suite's store.
class StoreContract : public ::testing::TestWithParam<BackendCase> {
 protected:
  explicit StoreContract(StoreKind kind) : kind_(kind) {}
  void SetUp() override {
    backend_ = GetParam().make();
    if (!backend_->has(kind_)) GTEST_SKIP() << GetParam().name << " lacks this store so far";
  }
  BackendHarness& backend() { return *backend_; }

 private:
  const StoreKind kind_;
  std::unique_ptr<BackendHarness> backend_;
};

class UserStoreContract : public StoreContract {
 protected:
  UserStoreContract() : StoreContract(StoreKind::kUsers) {}
};
class LockoutStoreContract : public StoreContract {
 protected:
  LockoutStoreContract() : StoreContract(StoreKind::kLockouts) {}
};
class TempIdStoreContract : public StoreContract {
 protected:
  TempIdStoreContract() : StoreContract(StoreKind::kTempIds) {}
};
class ReportStoreContract : public StoreContract {
 protected:
  ReportStoreContract() : StoreContract(StoreKind::kReports) {}
};
class DeviceStoreContract : public StoreContract {
 protected:
  DeviceStoreContract() : StoreContract(StoreKind::kDevices) {}
};
class UploadCodeStoreContract : public StoreContract {
 protected:
  UploadCodeStoreContract() : StoreContract(StoreKind::kUploadCodes) {}
};
class AuditTrailContract : public StoreContract {
 protected:
  AuditTrailContract() : StoreContract(StoreKind::kAudit) {}
};
class StaffStoreContract : public StoreContract {
 protected:
  StaffStoreContract() : StoreContract(StoreKind::kStaff) {}
};
class ContactStatusStoreContract : public StoreContract {
 protected:
  ContactStatusStoreContract() : StoreContract(StoreKind::kContactStatuses) {}
};

}  // namespace bluetrace::test
