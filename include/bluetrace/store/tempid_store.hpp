// TempIdStore: every issued TempID and whose it is, for the contact checks. Implemented by
// files/file_tempid_store.hpp (tempIDs.txt); the contract is proven for every backend by
// tests/store/contract/tempid_store_contract.cpp.
//
// Contract. Issue() returns a TempID only once its record is durable (fsynced or
// committed), and no two records ever share a TempID, also when several handles (several
// processes) issue at once: the store draws again on a collision. Lookup sees every record
// issued through this handle at once, and those of other handles on the same storage as the
// backend allows (at once for a shared database; the file backend has one writing process).
// Compact() drops only records whose expiry is older than now - retention, never a live
// one: exactly those whose expiry is before the cutoff it reports, which is now - retention
// or, for a backend that drops whole days, the start of that UTC day. After a failed write a
// backend may refuse further writes (health() says why) until it is reopened; it never
// acknowledges a record it did not make durable.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "bluetrace/protocol/tempid.hpp"
#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/util/random.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::store {

struct CompactionStats {
  std::uint64_t records_kept = 0;        // may be an estimate (a database's statistics)
  std::uint64_t records_dropped = 0;     // expired before the cutoff
  std::uint64_t duplicates_dropped = 0;  // duplicate records ignored at load time
  std::uint64_t bytes_before = 0;
  std::uint64_t bytes_after = 0;
  std::int64_t cutoff = 0;  // records with expiry < cutoff were dropped
};

// Counters since Open, for metrics and for tests of the batching.
struct TempIdStoreStats {
  std::uint64_t records_appended = 0;
  std::uint64_t syncs = 0;  // one per group-commit batch (or transaction)
  std::uint64_t sync_nanos_total = 0;
  std::uint64_t largest_batch = 0;  // records in the largest batch
  std::uint64_t compactions = 0;
};

class TempIdStore {
 public:
  virtual ~TempIdStore() = default;

  // Issues a fresh TempID for `user` valid over [start, expiry], drawn from `random`,
  // durable before it returns. Errors: kInvalidArgument for a record the store cannot hold
  // (bad user, expiry < start, years outside the format); kResourceExhausted when no unused
  // TempID was drawn; the generator's error; kIoError/kUnavailable when the storage fails.
  virtual util::Result<protocol::TempIdRecord> Issue(std::string_view user, std::int64_t start,
                                                     std::int64_t expiry, util::Random& random) = 0;
  // Records a given record durably. kAlreadyExists when its TempID is known; otherwise the
  // errors of Issue().
  virtual util::Status Append(const protocol::TempIdRecord& record) = 0;

  // The record of `id`, if known; nullopt also when the storage cannot answer (for tools
  // and tests: a contact check uses LookupAll, whose errors cannot pass for "unknown").
  virtual std::optional<protocol::TempIdRecord> Lookup(const protocol::TempId& id) const = 0;
  // The records of many ids at once (one round trip for a database), in the order of
  // `ids`; nullopt where unknown. Errors: the storage's (kUnavailable: a database that
  // cannot be reached or did not answer in time).
  virtual util::Result<std::vector<std::optional<protocol::TempIdRecord>>> LookupAll(
      std::span<const protocol::TempId> ids) const;

  // Drops the records that expired more than the configured retention ago.
  virtual util::Result<CompactionStats> Compact() = 0;
  // Drops every record of `user` (canonical), expired or not: the withdrawal of consent.
  // When it returns OK, no handle finds them (the file backend: this handle, the one
  // writing process) and the removal is durable. Returns how many were dropped.
  virtual util::Result<std::uint64_t> RemoveUser(std::string_view user) = 0;

  virtual std::size_t size() const = 0;
  virtual TempIdStoreStats stats() const = 0;
  // OK, or the error that made the store refuse writes.
  virtual util::Status health() const = 0;
};

}  // namespace bluetrace::store
