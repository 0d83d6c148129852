// Fuzzes the lockouts.txt parser through FileLockoutStore::Open on an in-memory state file.
// Invariants: a rejected file is kInvalidArgument naming the file and the line; a file that
// opens reports consistent blocks (ListBlocked sorted, unique, known, each block within the
// policy and agreeing with Check); and after a rewrite (a success and a failure recorded)
// the file parses again into the same blocks, and rewriting that is byte-for-byte stable.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/store/files/file_lockout_store.hpp"
#include "bluetrace/util/clock.hpp"
#include "memory_file_system.hpp"

namespace {

using namespace bluetrace;  // NOLINT

constexpr char kPath[] = "/state/lockouts.txt";
constexpr std::int64_t kNow = 1589391906;  // 13/05/2020 17:45:06 UTC
constexpr char kFreshUser[] = "+61499999999";

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

bool SameBlocks(const std::vector<store::BlockedUser>& a,
                const std::vector<store::BlockedUser>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].user != b[i].user || a[i].blocked_until != b[i].blocked_until ||
        a[i].known != b[i].known) {
      return false;
    }
  }
  return true;
}

// The blocks of `store` are well formed and agree with Check() for every name in `names`.
void CheckConsistent(const store::FileLockoutStore& store, const store::LockoutPolicy& policy,
                     const std::vector<std::string>& names) {
  const auto blocked = store.ListBlocked();
  std::set<std::string> users;
  for (std::size_t i = 0; i < blocked.size(); ++i) {
    const store::BlockedUser& b = blocked[i];
    Check(i == 0 || blocked[i - 1].user < b.user);
    Check(b.known);
    Check(b.seconds_left >= 1 && b.seconds_left <= policy.block_seconds);
    Check(b.blocked_until == kNow + b.seconds_left);
    const store::BlockState state = store.Check(b.user);
    Check(state.blocked && state.seconds_left == b.seconds_left);
    users.insert(b.user);
  }
  Check(store.known_entries() >= blocked.size());
  Check(store.unknown_entries() == 0);
  for (const std::string& name : names) {
    const store::BlockState state = store.Check(name);
    Check(state.blocked == (users.count(name) != 0));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  fuzz::MemoryFileSystem fs;
  fs.Put(kPath, content);
  util::ManualClock clock(kNow);
  store::LockoutPolicy policy;
  policy.max_failures = 3;
  policy.block_seconds = 3600;

  auto opened = store::FileLockoutStore::Open(fs, kPath, policy, clock);
  if (!opened.ok()) {
    Check(opened.status().code() == util::StatusCode::kInvalidArgument);
    Check(opened.status().message().rfind(std::string(kPath) + " line ", 0) == 0);
    return 0;
  }
  store::FileLockoutStore& store = **opened;

  // The first word of every line, so Check() is asked about every name in the file.
  std::vector<std::string> names;
  for (std::size_t pos = 0; pos < content.size();) {
    std::size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    const std::string_view line = content.substr(pos, end - pos);
    names.emplace_back(line.substr(0, line.find(' ')));
    pos = end + 1;
  }
  CheckConsistent(store, policy, names);

  // A rewrite: forget the first blocked user (if any), then count one failure of a user
  // whose count starts from zero.
  const auto before = store.ListBlocked();
  const std::string forgotten = before.empty() ? std::string(kFreshUser) : before.front().user;
  Check(store.RecordSuccess(forgotten).ok());
  Check(store.RecordSuccess(kFreshUser).ok());
  std::size_t lifted = 0;
  for (const store::BlockedUser& b : before) {
    lifted += b.user == forgotten || b.user == kFreshUser ? 1u : 0u;
  }
  auto failure = store.RecordFailure(kFreshUser, true);
  Check(failure.ok() && !failure->now_blocked && failure->attempts_left == 2);
  const auto after = store.ListBlocked();
  Check(after.size() == before.size() - lifted);
  const std::string* written = fs.Find(kPath);
  Check(written != nullptr);
  const std::string first_rewrite = *written;

  auto reopened = store::FileLockoutStore::Open(fs, kPath, policy, clock);
  Check(reopened.ok());
  CheckConsistent(**reopened, policy, names);
  Check(SameBlocks((*reopened)->ListBlocked(), after));
  Check((*reopened)->known_entries() == store.known_entries());

  // The same state written again gives the same bytes (the format is canonical).
  Check((*reopened)->RecordSuccess(kFreshUser).ok());
  Check((*reopened)->RecordFailure(kFreshUser, true).ok());
  Check(*fs.Find(kPath) == first_rewrite);
  return 0;
}
