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

Result<std::vector<UploadCodeRecord>> ParseUploadCodesFile(std::string_view content,
                                                           std::string_view file_name) {
  std::map<std::string, UploadCodeRecord, std::less<>> codes;
  BLUETRACE_RETURN_IF_ERROR(protocol::ForEachLine(
      content, file_name, [&](const protocol::TextLine& line) -> util::Status {
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
  std::vector<UploadCodeRecord> out;
  for (auto& [phone, r] : codes) out.push_back(std::move(r));
  return out;
}

std::string FormatUploadCodeLine(const UploadCodeRecord& r) {
  return r.phone + " " + r.digest + " " + std::to_string(r.issued_at) + " " +
         std::to_string(r.expires_at);
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
  BLUETRACE_ASSIGN_OR_RETURN(auto records, ParseUploadCodesFile(*content, name));
  for (auto& r : records) {
    std::string phone = r.phone;
    codes.emplace(std::move(phone), std::move(r));
  }
  return codes;
}

util::Status FileUploadCodeStore::Save(const Codes& codes, std::int64_t now) const {
  std::string text;
  for (const auto& [phone, r] : codes) {
    if (r.expires_at <= now) continue;  // expired: no longer of use to anyone
    text += FormatUploadCodeLine(r) + "\n";
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
    codes.insert_or_assign(record.phone, record);
    now = record.issued_at;
    return true;
  });
}

util::Result<RedeemResult> FileUploadCodeStore::Redeem(std::string_view phone,
                                                       std::string_view digest, std::int64_t now) {
  RedeemResult result = RedeemResult::kWrong;
  BLUETRACE_RETURN_IF_ERROR(Change([&](Codes& codes, std::int64_t& save_now) {
    auto it = codes.find(phone);
    if (it == codes.end() || it->second.digest != digest) return false;
    result = it->second.expires_at > now ? RedeemResult::kRedeemed : RedeemResult::kExpired;
    codes.erase(it);
    save_now = now;
    return true;
  }));
  return result;
}

util::Status FileUploadCodeStore::RemoveUser(std::string_view phone) {
  return Change([&](Codes& codes, std::int64_t&) { return codes.erase(std::string(phone)) > 0; });
}

}  // namespace bluetrace::store
