#include "bluetrace/store/files/withdrawals.hpp"

#include <vector>

#include "bluetrace/protocol/phone.hpp"
#include "bluetrace/protocol/text_lines.hpp"

namespace bluetrace::store {
namespace {

InterProcessLock Lock(const StateDir& dir) { return {dir.Path(kWithdrawnLock)}; }

util::Result<std::vector<std::string>> Read(FileSystem& fs, const StateDir& dir) {
  std::vector<std::string> phones;
  auto text = fs.ReadFile(dir.Path(kWithdrawnFile), 16ull << 20);
  if (!text.ok()) {
    if (text.status().code() == util::StatusCode::kNotFound) return phones;
    return text.status();
  }
  BLUETRACE_RETURN_IF_ERROR(protocol::ForEachLine(
      *text, kWithdrawnFile, [&](const protocol::TextLine& line) -> util::Status {
        if (!protocol::IsCanonicalPhone(line.text)) {
          return util::InvalidArgument("not a canonical phone number");
        }
        phones.emplace_back(line.text);
        return util::Status::Ok();
      }));
  return phones;
}

util::Status Write(FileSystem& fs, const StateDir& dir, const std::vector<std::string>& phones) {
  std::string text;
  for (const auto& p : phones) text += p + "\n";
  return fs.ReplaceFileAtomically(dir.Path(kWithdrawnFile), text, StateDir::kFileMode);
}

}  // namespace

util::Status RecordWithdrawal(FileSystem& fs, const StateDir& dir, std::string_view phone) {
  BLUETRACE_ASSIGN_OR_RETURN(auto held, AcquireLock(fs, Lock(dir)));
  BLUETRACE_ASSIGN_OR_RETURN(std::vector<std::string> phones, Read(fs, dir));
  phones.emplace_back(phone);
  return Write(fs, dir, phones);
}

util::Result<std::uint64_t> ApplyWithdrawals(FileSystem& fs, const StateDir& dir,
                                             TempIdStore& tempids) {
  BLUETRACE_ASSIGN_OR_RETURN(const bool exists, fs.Exists(dir.Path(kWithdrawnFile)));
  if (!exists) return std::uint64_t{0};
  BLUETRACE_ASSIGN_OR_RETURN(auto held, AcquireLock(fs, Lock(dir)));
  BLUETRACE_ASSIGN_OR_RETURN(std::vector<std::string> phones, Read(fs, dir));
  if (phones.empty()) return std::uint64_t{0};
  std::uint64_t dropped = 0;
  std::vector<std::string> left;
  util::Status first_error;
  for (const auto& phone : phones) {
    auto n = tempids.RemoveUser(phone);
    if (n.ok()) {
      dropped += *n;
    } else {
      left.push_back(phone);
      if (first_error.ok()) first_error = n.status();
    }
  }
  BLUETRACE_RETURN_IF_ERROR(Write(fs, dir, left));
  if (!first_error.ok()) return first_error;
  return dropped;
}

}  // namespace bluetrace::store
