// AuditTrail: where the server records audited events (logins, registrations, contact
// checks). Implemented by files/file_audit_trail.hpp (audit.log, hash-chained).
//
// Contract. Record() returns OK only once the record is durable, and the records of every
// writer (the server's instances, bluetrace-admin) form one chain; audited events fail
// closed, so a caller refuses an event whose record returned an error. healthy() is false
// while records cannot be written. Never pass a secret. Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bluetrace/util/status.hpp"

namespace bluetrace::store {

// (key, value) pairs of a record, in order.
using AuditFields = std::vector<std::pair<std::string, std::string>>;

class AuditTrail {
 public:
  virtual ~AuditTrail() = default;

  // Appends one durable record. kUnavailable while the trail cannot be written.
  virtual util::Status Record(std::string_view event, const AuditFields& fields) = 0;
  // False while records cannot be written (and a retry is not yet due).
  virtual bool healthy() = 0;
};

}  // namespace bluetrace::store
