// AuditTrail: where the server records audited events (logins, registrations, contact
// checks). Implemented by files/file_audit_trail.hpp (audit.log, hash-chained) and
// postgres/pg_audit_trail.hpp (the audit table, the same chain).
//
// Contract. Record() returns OK only once the record is durable, and the records of every
// writer (the server's instances, bluetrace-admin) form one chain; audited events fail
// closed, so a caller refuses an event whose record returned an error. healthy() is false
// while records cannot be written. Never pass a secret. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bluetrace/util/status.hpp"

namespace bluetrace::store {

using util::Result;

// (key, value) pairs of a record, in order.
using AuditFields = std::vector<std::pair<std::string, std::string>>;

// The event of a prune's anchor record (see AuditTrail::Prune); Record refuses it.
inline constexpr std::string_view kAuditPrunedEvent = "audit_pruned";

struct AuditPruneResult {
  std::uint64_t records_dropped = 0;  // 0: nothing was older than the cutoff, nothing written
  std::uint64_t anchor_seq = 0;       // seq of the anchor record written (0 when none)
};

class AuditTrail {
 public:
  virtual ~AuditTrail() = default;

  // Appends one durable record. kUnavailable while the trail cannot be written.
  virtual util::Status Record(std::string_view event, const AuditFields& fields) = 0;
  // False while records cannot be written (and a retry is not yet due).
  virtual bool healthy() = 0;

  // audit.retention: drops the oldest records, those before the first whose time is at or
  // after `cutoff_unix` (the earlier anchor included), and puts in their place one anchor
  // record "audit_pruned before=<cutoff> records=<n> [`fields`]" whose seq and prev hash are
  // the last dropped record's: the kept records verify from it unchanged (the record after
  // an anchor carries the anchor's prev hash, not its hash). All or nothing, under the
  // chain's lock; nothing is written when no record is old enough. Errors: kCorruption when
  // audit.log does not verify (a broken chain is never pruned; the database's rows are
  // trusted as its other tables are); kInvalidArgument for a bad field; the backend's I/O
  // or database errors (then the trail is as before).
  virtual Result<AuditPruneResult> Prune(std::int64_t cutoff_unix, const AuditFields& fields) = 0;
};

}  // namespace bluetrace::store
