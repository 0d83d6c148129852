// Fuzzes audit.log: the record parser and chain check (AuditLog::Verify, and Open, which
// reads the last record to continue the chain) and the writer (Append, EscapeValue), on an
// in-memory file. The first input byte chooses the mode:
//  - even: the rest is an audit.log. Verify never fails on a readable file; it either
//    accepts every line, and then Open continues the chain so that one more Append still
//    verifies, or it names a line no later than the first bad one.
//  - odd: the rest describes up to 16 records (events, fields, values of any bytes and of
//    any length up to 96 KiB, time steps). What Append writes always verifies with every
//    record counted; every value survives EscapeValue -> UnescapeValue; and any single
//    changed byte of the written file is reported by Verify.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "bluetrace/store/files/audit_log.hpp"
#include "bluetrace/util/clock.hpp"
#include "memory_file_system.hpp"

namespace {

using namespace bluetrace;  // NOLINT

constexpr char kPath[] = "/state/audit.log";
constexpr std::int64_t kStart = 1589391906;  // 13/05/2020 17:45:06 UTC
constexpr std::size_t kMaxValueBytes = 96 * 1024;

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

// Input bytes consumed from the front; zeros once they run out.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  std::uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::string Take(std::size_t n) {
    n = std::min(n, size_ - pos_);
    std::string out(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

bool IsName(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
  });
}

// 1-8 input bytes mapped onto the name alphabet [a-z0-9_.].
std::string Name(Input& in) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789_.";
  std::string name = in.Take(1 + in.Byte() % 8);
  // (Assigning "x" to the empty string trips g++ 12's -Wrestrict at -O2, a false positive.)
  if (name.empty()) return std::string(1, 'x');
  for (char& c : name) c = kChars[static_cast<std::uint8_t>(c) % (sizeof kChars - 1)];
  return name;
}

// A chunk of raw bytes, repeated up to 2^15 times when the repeat byte is high, so values
// far longer than the input (long user names typed into a login) are tried too.
std::string Value(Input& in) {
  const std::string chunk = in.Take(in.Byte());
  const std::uint8_t r = in.Byte();
  const std::size_t repeats = r < 240 ? 1 : std::size_t{1} << (r - 240);
  std::string value;
  for (std::size_t i = 0; i < repeats && !chunk.empty() && value.size() < kMaxValueBytes; ++i) {
    value += chunk;
  }
  value.resize(std::min(value.size(), kMaxValueBytes));
  return value;
}

std::size_t CountLines(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

void FuzzFile(std::string_view file) {
  fuzz::MemoryFileSystem fs;
  fs.Put(kPath, file);
  auto verified = store::AuditLog::Verify(fs, kPath);
  Check(verified.ok());
  const std::size_t lines = CountLines(file);
  if (!verified->ok()) {
    Check(verified->bad_line >= 1 && verified->bad_line <= lines + 1);
    Check(verified->records == verified->bad_line - 1);
    Check(!verified->problem.empty());
    return;
  }
  Check(verified->records == lines);
  Check(verified->problem.empty());
  // A file that verifies can always be continued.
  util::ManualClock clock(kStart);
  auto log = store::AuditLog::Open(fs, clock, kPath, "");
  Check(log.ok());
  Check((*log)->Append("fuzz.check", {{"user", "+61410999999"}}).ok());
  auto again = store::AuditLog::Verify(fs, kPath);
  Check(again.ok() && again->ok() && again->records == lines + 1);
}

void FuzzAppend(Input& in) {
  fuzz::MemoryFileSystem fs;
  util::ManualClock clock(kStart);
  auto log = store::AuditLog::Open(fs, clock, kPath, "");
  Check(log.ok());
  std::uint64_t records = 0;
  for (int i = 0; i < 16 && !in.empty(); ++i) {
    clock.AdvanceSeconds(in.Byte());
    const std::uint8_t how = in.Byte();
    // Now and then a raw event name, which Append must refuse unless it is a name.
    const std::string event = (how & 0x80) != 0 ? in.Take(1 + how % 8) : Name(in);
    store::AuditFields fields;
    for (int f = how % 4; f > 0; --f) {
      std::string key = Name(in);
      std::string value = Value(in);
      auto back = store::AuditLog::UnescapeValue(store::AuditLog::EscapeValue(value));
      Check(back.ok() && *back == value);
      fields.emplace_back(std::move(key), std::move(value));
    }
    const std::string before = fs.Find(kPath) ? *fs.Find(kPath) : std::string();
    const util::Status st = (*log)->Append(event, fields);
    if (IsName(event)) {
      Check(st.ok());
      ++records;
    } else {
      Check(st.code() == util::StatusCode::kInvalidArgument);
      Check(*fs.Find(kPath) == before);
    }
  }
  auto verified = store::AuditLog::Verify(fs, kPath);
  Check(verified.ok() && verified->ok() && verified->records == records);
  if (records == 0) return;

  // One changed byte anywhere is reported.
  std::string file = *fs.Find(kPath);
  const std::size_t pos = (std::size_t{in.Byte()} << 16 | std::size_t{in.Byte()} << 8 | in.Byte());
  const auto mask = static_cast<std::uint8_t>(1 + in.Byte() % 255);
  file[pos % file.size()] =
      static_cast<char>(static_cast<std::uint8_t>(file[pos % file.size()]) ^ mask);
  fs.Put(kPath, file);
  auto tampered = store::AuditLog::Verify(fs, kPath);
  Check(tampered.ok() && !tampered->ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if ((data[0] & 1) == 0) {
    FuzzFile(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  } else {
    Input in(data + 1, size - 1);
    FuzzAppend(in);
  }
  return 0;
}
