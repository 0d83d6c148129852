// Fuzzes the client's receipt-time sidecar contactlog.received (ContactLogStore's own
// line parser; contactlog.txt itself is the contact_log target's) through
// ContactLogStore::Open on in-memory files. The input is "<contactlog.txt>\0<sidecar>", or
// just the sidecar beside a fixed two-entry log. Invariants: a rejected sidecar is
// kCorruption naming it and the line; a store that opens holds each TempID once, none past
// its retention, and has written both files in canonical form, so opening them again gives
// the same records and rewrites nothing.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "bluetrace/protocol/tempid.hpp"
#include "bluetrace/store/contact_log_store.hpp"
#include "bluetrace/util/clock.hpp"
#include "memory_file_system.hpp"

namespace {

using namespace bluetrace;  // NOLINT

constexpr char kDir[] = "/home/user/bluetrace";
constexpr char kSampleLog[] =
    "12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\n"
    "12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05\n";
constexpr std::int64_t kNow = 1589392800;  // 13/05/2020 18:00:00 UTC
constexpr std::int64_t kRetention = 3 * 3600;

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  const std::string_view log = nul == std::string_view::npos ? kSampleLog : input.substr(0, nul);
  const std::string_view sidecar = nul == std::string_view::npos ? input : input.substr(nul + 1);

  fuzz::MemoryFileSystem fs;
  util::ManualClock clock(kNow);
  store::ContactLogOptions options;
  options.dir = kDir;
  options.retention_seconds = kRetention;
  options.max_entries = 1000;
  const std::string log_path = store::JoinPath(kDir, store::ContactLogStore::kLogFileName);
  const std::string receipt_path = store::JoinPath(kDir, store::ContactLogStore::kReceiptFileName);
  fs.Put(log_path, log);
  fs.Put(receipt_path, sidecar);

  auto opened = store::ContactLogStore::Open(fs, clock, options);
  if (!opened.ok()) {
    const util::Status& st = opened.status();
    if (st.code() == util::StatusCode::kCorruption) {
      Check(st.message().rfind(receipt_path + " line ", 0) == 0);
    } else {
      // contactlog.txt's own errors, which the contact_log target checks in detail.
      Check(st.code() == util::StatusCode::kInvalidArgument ||
            st.code() == util::StatusCode::kResourceExhausted);
      Check(st.message().find(log_path) != std::string::npos);
    }
    return 0;
  }
  const auto records = (*opened)->Records();
  std::set<std::string> ids;
  for (const store::ContactLogRecord& r : records) {
    Check(ids.insert(r.entry.id.ToString()).second);
    Check(r.received > kNow - kRetention);
    Check(r.entry.start <= r.entry.expiry);
  }
  Check((*opened)->size() == records.size());

  const std::string log_after = *fs.Find(log_path);
  const std::string sidecar_after = *fs.Find(receipt_path);
  auto reopened = store::ContactLogStore::Open(fs, clock, options);
  Check(reopened.ok());
  Check((*reopened)->Records() == records);
  Check(*fs.Find(log_path) == log_after);
  Check(*fs.Find(receipt_path) == sidecar_after);
  return 0;
}
