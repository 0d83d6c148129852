// The file backend: today's state directory of flat files (the original's credentials.txt
// and tempIDs.txt, and bluetrace's lockouts.txt, devices.txt, audit.log and reports/),
// opened as one set of stores. The default backend, and the one the original's command
// line uses.
#pragma once

#include <cstdint>
#include <string>

#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/lockout_store.hpp"
#include "bluetrace/store/password_hash.hpp"
#include "bluetrace/store/stores.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::store {

struct FileBackendOptions {
  std::string state_dir;  // must exist (RequireStateDirectory)
  Argon2Params argon2;
  LockoutPolicy lockout;
  LockoutPolicy code_lockout;  // wrong upload codes per user
  protocol::TimeZoneMode time_mode = protocol::TimeZoneMode::kUtc;
  std::int64_t tempid_retention_seconds = 0;  // 0: keep every TempID
};

// Opens every store of the directory, checking each file: a malformed one is an error
// naming the file and the line; a torn tail left by a crash is repaired and described in
// the notes. The FileSystem, Clock and Random must outlive the stores.
Result<Stores> OpenFileBackend(FileSystem& fs, util::Clock& clock, util::Random& random,
                               const FileBackendOptions& options);

}  // namespace bluetrace::store
