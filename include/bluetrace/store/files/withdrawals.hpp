// Withdrawals: the phone numbers whose account bluetrace-admin removed from a state
// directory while a server ran on it (withdrawn.txt, one canonical number per line). The
// running server alone may rewrite tempIDs.txt, so the tool records the number here
// (durably, under .lock-withdrawn) and the server drops that user's TempIDs at its next
// reload of credentials.txt (about a second later) or start-up, then forgets the line.
// Stateless functions; safe from several processes (the lock).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/files/state_dir.hpp"
#include "bluetrace/store/tempid_store.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::store {

inline constexpr char kWithdrawnFile[] = "withdrawn.txt";
inline constexpr char kWithdrawnLock[] = ".lock-withdrawn";

// Appends `phone` (canonical) to <dir>/withdrawn.txt, durably.
util::Status RecordWithdrawal(FileSystem& fs, const StateDir& dir, std::string_view phone);

// Drops the TempIDs of every number in <dir>/withdrawn.txt from `tempids` and empties the
// file; returns how many records were dropped. A number whose removal fails stays listed
// (the error is returned; the next reload tries again).
util::Result<std::uint64_t> ApplyWithdrawals(FileSystem& fs, const StateDir& dir,
                                             TempIdStore& tempids);

}  // namespace bluetrace::store
