// Leftover temporary files in a server's state directory: a crash between the creation of
// ReplaceFileAtomically's temporary file and its rename leaves the file behind, and it can
// be a full copy of credentials.txt. bluetrace-server removes them at start-up and
// bluetrace-admin verify removes them too (or reports them when it may not).
//
// Which files: only names TempFileName makes (TempFileTarget, the one matcher) whose target
// is a file the server or bluetrace-admin replaces there: credentials.txt, lockouts.txt,
// audit.log (a prune), tempIDs.txt, server.crt and server.key in the state directory, and
// report names in reports/. Anything else is never touched (a client run in the same
// directory keeps its own files, a ready file's leftover holds only a port number).
//
// A temporary file may belong to a write in progress, so each is removed only while
// holding the lock that every writer of its target holds for the whole write:
//   credentials.txt  .lock-credentials  (every rewrite, by the server or bluetrace-admin)
//   lockouts.txt     .lock-lockouts     (likewise)
//   audit.log        .lock-audit        (a prune, by the server or bluetrace-admin)
//   everything else  .server.lock       (held by a running server for its whole life;
//                                        bluetrace-admin compact takes it to rewrite)
// With the lock held, a temporary of that target still on disk was left by a dead writer.
// When a lock cannot be taken (a server runs, or a rewrite outlasts the wait) that group's
// files stay and are counted as kept. Locks are taken one at a time and released at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/files/state_dir.hpp"

namespace bluetrace::store {

struct LeftoverTempFileOptions {
  // False: only find and count them, as kept; no lock is taken and no file is created or
  // removed (bluetrace-admin verify run by someone other than the directory's owner).
  bool remove = true;
  // True when the caller holds <state_dir>/.server.lock itself (the server at start-up);
  // otherwise it is tried without waiting.
  bool caller_holds_server_lock = false;
  // How long to wait for .lock-credentials and .lock-lockouts.
  std::chrono::milliseconds lock_timeout{5000};
};

struct LeftoverTempFiles {
  std::uint64_t removed_files = 0;
  std::uint64_t removed_bytes = 0;
  // Found but left in place (possibly in use, or `remove` was false).
  std::uint64_t kept_files = 0;
  std::uint64_t kept_bytes = 0;
  // Files were kept because another process holds .server.lock: a server runs there (or
  // bluetrace-admin compact does).
  bool server_running = false;
  // Other reasons files were kept: the Status of each other lock not taken (kUnavailable
  // when a rewrite held it past lock_timeout).
  std::vector<util::Status> kept_because;
  // Files that could not be sized or removed (each Status names the path).
  std::vector<util::Status> errors;
};

// Finds the leftover temporary files of `state_dir` and its reports/ and removes those it
// may (above). A missing directory has none. Errors: a directory cannot be listed.
util::Result<LeftoverTempFiles> RemoveLeftoverTempFiles(FileSystem& fs,
                                                        const std::string& state_dir,
                                                        const LeftoverTempFileOptions& options);

// "3 leftover temporary files (8120 bytes)", for logs and verify's output.
std::string DescribeLeftovers(std::uint64_t files, std::uint64_t bytes);

}  // namespace bluetrace::store
