#include "bluetrace/store/files/file_upload_code_store.hpp"

#include <charconv>
#include <limits>

#include "bluetrace/protocol/phone.hpp"
#include "bluetrace/protocol/text_lines.hpp"

namespace bluetrace::store {
namespace {

constexpr std::uint64_t kMaxFileBytes = 64ull << 20;

bool ParseI64(std::string_view s, std::int64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Splits `text` at single spaces into exactly `n` non-empty fields.
bool SplitFields(std::string_view text, std::string_view* fields, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t space = text.find(' ');
    const bool last = i + 1 == n;
    if (last != (space == std::string_view::npos)) return false;
    fields[i] = text.substr(0, space);
    if (fields[i].empty()) return false;
    if (!last) text.remove_prefix(space + 1);
  }
  return true;
}

}  // namespace

Result<UploadCodesFile> ParseUploadCodesFile(std::string_view content, std::string_view file_name) {
  std::map<std::string, UploadCodeRecord, std::less<>> codes;
  UploadCodesFile out;
  BLUETRACE_RETURN_IF_ERROR(protocol::ForEachLine(
      content, file_name, [&](const protocol::TextLine& line) -> util::Status {
        if (line.text.rfind("issued ", 0) == 0) {
          std::string_view f[3];
          std::int64_t day = 0, count = 0;
          if (!SplitFields(line.text, f, 3) || !ParseI64(f[1], day) || !ParseI64(f[2], count) ||
              UtcDayStart(day) != day || count <= 0) {
            return util::InvalidArgument(
                "expected \"issued <unix time of a day's start> <codes issued that day>\"");
          }
          if (!out.issued_per_day.emplace(day, static_cast<std::uint64_t>(count)).second) {
            return util::InvalidArgument("a second count for the day " + std::string(f[1]));
          }
          return util::Status::Ok();
        }
        std::string_view f[4];
        UploadCodeRecord r;
        if (!SplitFields(line.text, f, 4) || !protocol::IsCanonicalPhone(f[0]) ||
            !IsCodeDigest(f[1]) || !ParseI64(f[2], r.issued_at) || !ParseI64(f[3], r.expires_at)) {
          return util::InvalidArgument(
              "expected \"<phone> <64 hex digits> <issued_at> <expires_at>\"");
        }
        r.phone = std::string(f[0]);
        r.digest = std::string(f[1]);
        if (!codes.emplace(r.phone, std::move(r)).second) {
          return util::InvalidArgument("a second code for " + std::string(f[0]));
        }
        return util::Status::Ok();
      }));
  for (auto& [phone, r] : codes) out.codes.push_back(std::move(r));
  return out;
}

std::string FormatUploadCodeLine(const UploadCodeRecord& r) {
  return r.phone + " " + r.digest + " " + std::to_string(r.issued_at) + " " +
         std::to_string(r.expires_at);
}

std::string FormatIssuedCountLine(std::int64_t day_start, std::uint64_t codes) {
  return "issued " + std::to_string(day_start) + " " + std::to_string(codes);
}

Result<std::unique_ptr<FileUploadCodeStore>> FileUploadCodeStore::Open(FileSystem& fs,
                                                                       std::string path,
                                                                       InterProcessLock lock) {
  std::unique_ptr<FileUploadCodeStore> store(
      new FileUploadCodeStore(fs, std::move(path), std::move(lock)));
  BLUETRACE_RETURN_IF_ERROR(store->Load().status());
  return store;
}

Result<FileUploadCodeStore::Codes> FileUploadCodeStore::Load() const {
  Codes codes;
  auto content = fs_.ReadFile(path_, kMaxFileBytes);
  if (!content.ok()) {
    if (content.status().code() == util::StatusCode::kNotFound) return codes;
    return content.status();
  }
  const std::string name = path_.substr(path_.find_last_of('/') + 1);
  BLUETRACE_ASSIGN_OR_RETURN(UploadCodesFile file, ParseUploadCodesFile(*content, name));
  for (auto& r : file.codes) {
    std::string phone = r.phone;
    codes.live.emplace(std::move(phone), std::move(r));
  }
  codes.issued = std::move(file.issued_per_day);
  return codes;
}

util::Status FileUploadCodeStore::Save(const Codes& codes, std::int64_t now) const {
  std::string text;
  for (const auto& [phone, r] : codes.live) {
    if (r.expires_at <= now) continue;  // expired: no longer of use to anyone
    text += FormatUploadCodeLine(r) + "\n";
  }
  for (const auto& [day, count] : codes.issued) {
    text += FormatIssuedCountLine(day, count) + "\n";
  }
  return fs_.ReplaceFileAtomically(path_, text, 0600);
}

template <typename Fn>
util::Status FileUploadCodeStore::Change(Fn change) {
  util::MutexLock lock(mu_);
  BLUETRACE_ASSIGN_OR_RETURN(auto file_lock, AcquireLock(fs_, lock_));
  BLUETRACE_ASSIGN_OR_RETURN(Codes codes, Load());
  std::int64_t now = std::numeric_limits<std::int64_t>::min();
  if (!change(codes, now)) return util::Status::Ok();
  return Save(codes, now);
}

util::Status FileUploadCodeStore::Put(const UploadCodeRecord& record) {
  if (!IsCodeDigest(record.digest)) return util::InvalidArgument("not a code digest");
  if (!protocol::IsCanonicalPhone(record.phone)) {
    return util::InvalidArgument("not a canonical phone number: " + record.phone);
  }
  return Change([&](Codes& codes, std::int64_t& now) {
    codes.live.insert_or_assign(record.phone, record);
    ++codes.issued[UtcDayStart(record.issued_at)];
    now = record.issued_at;
    return true;
  });
}

util::Result<RedeemResult> FileUploadCodeStore::Redeem(std::string_view phone,
                                                       std::string_view digest, std::int64_t now) {
  RedeemResult result = RedeemResult::kWrong;
  BLUETRACE_RETURN_IF_ERROR(Change([&](Codes& codes, std::int64_t& save_now) {
    auto it = codes.live.find(phone);
    if (it == codes.live.end() || it->second.digest != digest) return false;
    result = it->second.expires_at > now ? RedeemResult::kRedeemed : RedeemResult::kExpired;
    codes.live.erase(it);
    save_now = now;
    return true;
  }));
  return result;
}

util::Status FileUploadCodeStore::RemoveUser(std::string_view phone) {
  return Change(
      [&](Codes& codes, std::int64_t&) { return codes.live.erase(std::string(phone)) > 0; });
}

util::Result<std::vector<CodesIssuedOnDay>> FileUploadCodeStore::CountIssuedPerDay(
    std::int64_t since) const {
  BLUETRACE_ASSIGN_OR_RETURN(Codes codes, Load());
  std::vector<CodesIssuedOnDay> out;
  for (auto it = codes.issued.lower_bound(UtcDayStart(since)); it != codes.issued.end(); ++it) {
    out.push_back({it->first, it->second});
  }
  return out;
}

}  // namespace bluetrace::store
