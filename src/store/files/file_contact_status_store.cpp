#include "bluetrace/store/files/file_contact_status_store.hpp"

#include <algorithm>
#include <charconv>
#include <map>

#include "bluetrace/store/files/state_dir.hpp"

namespace bluetrace::store {
namespace {

constexpr std::uint64_t kMaxFileBytes = 256ull << 20;

// Bytes outside '!'..'~' and '%' itself become %XX, so a field never holds a space or a
// newline.
std::string Encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c > ' ' && c < 0x7F && c != '%') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out.empty() ? "%" : out;  // "%" alone: the empty text (a field is never empty)
}

util::Result<std::string> Decode(std::string_view s) {
  if (s == "%") return std::string();
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    unsigned v = 0;
    if (i + 3 > s.size()) return util::InvalidArgument("a cut escape");
    const auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (ec != std::errc() || p != s.data() + i + 3) return util::InvalidArgument("bad escape");
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

}  // namespace

util::Result<std::vector<ContactStatusRecord>> ParseContactStatusFile(std::string_view content,
                                                                      const std::string& path) {
  std::map<std::string, ContactStatusRecord> out;
  std::size_t line_no = 0;
  while (!content.empty()) {
    ++line_no;
    auto bad = [&](const std::string& why) {
      return util::Corruption(path + ":" + std::to_string(line_no) + ": " + why);
    };
    const std::size_t end = content.find('\n');
    if (end == std::string_view::npos) return bad("no final newline");
    std::string_view line = content.substr(0, end);
    content.remove_prefix(end + 1);
    std::string_view f[5];
    for (int i = 0; i < 4; ++i) {
      const std::size_t sp = line.find(' ');
      if (sp == std::string_view::npos) return bad("expected 5 fields");
      f[i] = line.substr(0, sp);
      line.remove_prefix(sp + 1);
    }
    f[4] = line;
    ContactStatusRecord r;
    r.phone = std::string(f[0]);
    auto status = ParseContactStatus(f[1]);
    if (!status.ok()) return bad(status.status().message());
    r.status = *status;
    const auto [p, ec] = std::from_chars(f[2].data(), f[2].data() + f[2].size(), r.updated_at);
    if (ec != std::errc() || p != f[2].data() + f[2].size()) return bad("bad time");
    auto by = Decode(f[3]);
    auto note = Decode(f[4]);
    if (!by.ok() || !note.ok()) return bad("bad percent-encoding");
    r.updated_by = std::move(*by);
    r.note = std::move(*note);
    if (auto st = ValidateContactStatusRecord(r); !st.ok()) return bad(st.message());
    const std::string phone = r.phone;
    if (!out.emplace(phone, std::move(r)).second) return bad("a phone number given twice");
  }
  std::vector<ContactStatusRecord> records;
  for (auto& [phone, r] : out) records.push_back(std::move(r));
  return records;
}

std::string FormatContactStatusLine(const ContactStatusRecord& r) {
  return r.phone + " " + std::string(ContactStatusName(r.status)) + " " +
         std::to_string(r.updated_at) + " " + Encode(r.updated_by) + " " + Encode(r.note);
}

util::Result<std::unique_ptr<FileContactStatusStore>> FileContactStatusStore::Open(
    FileSystem& fs, std::string path, InterProcessLock lock) {
  std::unique_ptr<FileContactStatusStore> store(
      new FileContactStatusStore(fs, std::move(path), std::move(lock)));
  BLUETRACE_RETURN_IF_ERROR(store->List().status());
  return store;
}

util::Result<std::vector<ContactStatusRecord>> FileContactStatusStore::List() {
  auto content = fs_.ReadFile(path_, kMaxFileBytes);
  if (content.status().code() == util::StatusCode::kNotFound) {
    return std::vector<ContactStatusRecord>();
  }
  if (!content.ok()) return content.status();
  return ParseContactStatusFile(*content, path_);
}

util::Status FileContactStatusStore::Set(const ContactStatusRecord& record) {
  BLUETRACE_RETURN_IF_ERROR(ValidateContactStatusRecord(record));
  util::MutexLock w(write_mu_);
  BLUETRACE_ASSIGN_OR_RETURN(auto held, AcquireLock(fs_, lock_));
  BLUETRACE_ASSIGN_OR_RETURN(auto all, List());
  std::map<std::string, ContactStatusRecord> records;
  for (auto& r : all) records[r.phone] = std::move(r);
  records[record.phone] = record;
  std::string text;
  for (const auto& [phone, r] : records) text += FormatContactStatusLine(r) + "\n";
  return fs_.ReplaceFileAtomically(path_, text, StateDir::kFileMode);
}

}  // namespace bluetrace::store
