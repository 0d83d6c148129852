#include "bluetrace/store/files/audit_log.hpp"

#include <algorithm>
#include <charconv>
#include <functional>

#include "bluetrace/util/digest.hpp"

namespace bluetrace::store {
namespace {

using util::Sha256Hex;

constexpr std::size_t kHashHex = 64;
const std::string kGenesis(kHashHex, '0');
constexpr std::size_t kMaxLine = 64 * 1024;

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

bool IsName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

bool IsHex64(std::string_view s) {
  if (s.size() != kHashHex) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool ParseU64(std::string_view s, std::uint64_t& out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

struct Record {
  std::uint64_t seq = 0;
  std::uint64_t unix_time = 0;
  std::string_view event;
  std::vector<std::string_view> fields;  // "key=value", the value escaped
  std::string_view prev, hash;
};

// Parses and checks one line on its own (not its place in the chain); returns a reason.
std::string ParseRecord(std::string_view line, Record& r) {
  std::vector<std::string_view> tokens;
  std::size_t start = 0;
  while (start <= line.size()) {
    std::size_t sp = line.find(' ', start);
    if (sp == std::string_view::npos) sp = line.size();
    tokens.push_back(line.substr(start, sp - start));
    start = sp + 1;
  }
  if (tokens.size() < 5) return "not an audit record";
  if (!ParseU64(tokens[0], r.seq) || r.seq == 0) return "bad sequence number";
  if (!ParseU64(tokens[1], r.unix_time)) return "bad time";
  if (!IsName(tokens[2])) return "bad event name";
  r.event = tokens[2];
  for (std::size_t i = 3; i + 2 < tokens.size(); ++i) {
    const auto eq = tokens[i].find('=');
    if (eq == std::string_view::npos || !IsName(tokens[i].substr(0, eq))) return "bad field";
    if (!AuditLog::UnescapeValue(tokens[i].substr(eq + 1)).ok()) return "bad field value";
    r.fields.push_back(tokens[i]);
  }
  r.prev = tokens[tokens.size() - 2];
  r.hash = tokens.back();
  if (!IsHex64(r.prev) || !IsHex64(r.hash)) return "bad hash";
  const std::string_view body = line.substr(0, line.size() - 2 * (kHashHex + 1));
  if (Sha256Hex(std::string(r.prev) + " " + std::string(body)) != r.hash) {
    return "hash does not match the record (changed line)";
  }
  return "";
}

// Streams `path` line by line (without the '\n'); `on_line` returns false to stop. The
// bytes after the last '\n' (a torn line) are left in `rest`.
Status ForEachLine(FileSystem& fs, const std::string& path,
                   const std::function<bool(std::string_view, std::uint64_t line_no,
                                            std::uint64_t end_offset)>& on_line,
                   std::string& rest) {
  BLUETRACE_ASSIGN_OR_RETURN(auto file, fs.OpenForRead(path));
  std::string chunk(64 * 1024, '\0');
  std::uint64_t offset = 0, line_no = 0;
  rest.clear();
  for (;;) {
    BLUETRACE_ASSIGN_OR_RETURN(auto n, file->Read(chunk.data(), chunk.size()));
    if (n == 0) return Status::Ok();
    for (std::size_t i = 0; i < n; ++i) {
      ++offset;
      if (chunk[i] != '\n') {
        if (rest.size() < kMaxLine) rest += chunk[i];
        continue;
      }
      if (!on_line(rest, ++line_no, offset)) return Status::Ok();
      rest.clear();
    }
  }
}

}  // namespace

std::string AuditLog::EscapeValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == ':' || c == '/' || c == '@' || c == '+' ||
                       c == '-';
    if (plain) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

Result<std::string> AuditLog::UnescapeValue(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      if (text[i] == ' ' || text[i] == '=' || static_cast<unsigned char>(text[i]) < 0x21) {
        return util::InvalidArgument("unescaped character in an audit value");
      }
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) {
      return util::InvalidArgument("truncated escape in an audit value");
    }
    const int hi = hex(text[i + 1]), lo = hex(text[i + 2]);
    if (hi < 0 || lo < 0) return util::InvalidArgument("bad escape in an audit value");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

Result<AuditLog::Tail> AuditLog::ReadTail(FileSystem& fs, const std::string& path,
                                          std::uint64_t* file_size) {
  Tail tail;
  tail.hash = kGenesis;
  std::string last, problem;
  std::uint64_t last_no = 0;
  std::string rest;
  auto st = ForEachLine(
      fs, path,
      [&](std::string_view line, std::uint64_t no, std::uint64_t end) {
        last = line;
        last_no = no;
        tail.size = end;
        return true;
      },
      rest);
  if (!st.ok()) return st;
  *file_size = tail.size + rest.size();
  if (last_no == 0) return tail;
  Record r;
  problem = ParseRecord(last, r);
  if (!problem.empty()) {
    return util::Corruption(path + " line " + std::to_string(last_no) + ": " + problem);
  }
  tail.seq = r.seq;
  // The record after a prune's anchor carries the anchor's prev hash (audit_log.hpp).
  const bool anchor = last_no == 1 && r.event == kAuditPrunedEvent;
  tail.hash = std::string(anchor ? r.prev : r.hash);
  return tail;
}

Result<std::unique_ptr<FileLock>> AuditLog::LockWriters() const {
  if (lock_path_.empty()) return std::unique_ptr<FileLock>();
  return fs_.LockFile(lock_path_, true);
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(FileSystem& fs, const util::Clock& clock,
                                                 std::string path, std::string lock_path,
                                                 std::string* repair_note) {
  std::unique_ptr<AuditLog> log(new AuditLog(fs, clock, std::move(path), std::move(lock_path)));
  BLUETRACE_ASSIGN_OR_RETURN(auto lock, log->LockWriters());
  BLUETRACE_ASSIGN_OR_RETURN(auto file, fs.OpenForAppend(log->path_, 0600));
  BLUETRACE_ASSIGN_OR_RETURN(const FileInfo info, fs.Stat(log->path_));
  std::uint64_t size = 0;
  BLUETRACE_ASSIGN_OR_RETURN(auto tail, ReadTail(fs, log->path_, &size));
  if (size > tail.size) {
    // A crash mid-append: the record was never acknowledged, so cutting it is safe.
    BLUETRACE_RETURN_IF_ERROR(fs.Truncate(log->path_, tail.size));
    if (repair_note) {
      *repair_note = "audit.log: repaired a torn last line left by a crash (" +
                     std::to_string(size - tail.size) + " bytes removed)";
    }
  }
  util::MutexLock l(log->mu_);
  log->file_ = std::move(file);
  log->tail_ = std::move(tail);
  log->inode_ = info.inode;
  return log;
}

Result<std::string> AuditLog::FormatEventText(std::string_view event, const AuditFields& fields) {
  if (event == kAuditPrunedEvent) {
    return util::InvalidArgument("audit_pruned is written by a prune only");
  }
  return FormatText(event, fields);
}

Result<std::string> AuditLog::FormatAnchorText(std::int64_t cutoff_unix, std::uint64_t records,
                                               const AuditFields& fields) {
  AuditFields all = {{"before", std::to_string(cutoff_unix)}, {"records", std::to_string(records)}};
  all.insert(all.end(), fields.begin(), fields.end());
  return FormatText(kAuditPrunedEvent, all);
}

Result<std::string> AuditLog::FormatText(std::string_view event, const AuditFields& fields) {
  if (!IsName(event)) return util::InvalidArgument("bad audit event name");
  std::string text = std::string(event);
  for (const auto& [key, value] : fields) {
    if (!IsName(key)) return util::InvalidArgument("bad audit field name: " + key);
    const std::string recorded =
        value.size() <= kMaxValueBytes
            ? value
            : value.substr(0, kMaxValueBytes) + "...(" + std::to_string(value.size()) + " bytes)";
    text += " " + key + "=" + EscapeValue(recorded);
  }
  // Verify and Open read at most kMaxLine bytes of a line: never write a longer one
  // (seq and time take at most 20 digits and a space each, the hashes 65 bytes each).
  if (2 * 21 + text.size() + 2 * (kHashHex + 1) > kMaxLine) {
    return util::InvalidArgument("audit record longer than " + std::to_string(kMaxLine) + " bytes");
  }
  return text;
}

Status AuditLog::Append(std::string_view event, const AuditFields& fields) {
  BLUETRACE_ASSIGN_OR_RETURN(const std::string text, FormatEventText(event, fields));
  util::MutexLock l(mu_);
  if (failed_) return util::Unavailable(path_ + ": an earlier append failed; reopen the log");
  BLUETRACE_ASSIGN_OR_RETURN(auto lock, LockWriters());
  BLUETRACE_ASSIGN_OR_RETURN(const FileInfo info, fs_.Stat(path_));
  const bool replaced = info.inode != inode_;
  if (replaced) {
    // Another process pruned the log (a new file by rename): append to the new file.
    BLUETRACE_ASSIGN_OR_RETURN(auto file, fs_.OpenForAppend(path_, 0600));
    file_ = std::move(file);
    inode_ = info.inode;
  }
  // Another process appended or pruned since our last record: continue from its last one.
  if (replaced || info.size != tail_.size) {
    std::uint64_t file_size = 0;
    BLUETRACE_ASSIGN_OR_RETURN(auto tail, ReadTail(fs_, path_, &file_size));
    tail_ = std::move(tail);
  }
  const std::int64_t now = clock_.NowUnixSeconds();
  const std::string body = std::to_string(tail_.seq + 1) + " " + std::to_string(now) + " " + text;
  const std::string hash = Sha256Hex(tail_.hash + " " + body);
  const std::string line = FormatRecordLine(tail_.seq + 1, now, text, tail_.hash, hash) + "\n";
  Status st = file_->Append(line);
  if (st.ok()) st = file_->Sync();
  if (!st.ok()) {
    failed_ = true;
    return st;
  }
  tail_.seq += 1;
  tail_.hash = hash;
  tail_.size += line.size();
  return Status::Ok();
}

Result<AuditPruneResult> AuditLog::Prune(std::int64_t cutoff_unix, const AuditFields& fields) {
  BLUETRACE_RETURN_IF_ERROR(FormatAnchorText(cutoff_unix, 0, fields).status());  // bad fields
  // Most runs (the server's hourly ones) have nothing to drop: the first record says so,
  // without the lock or a pass over the file. A line that does not parse is left to the
  // full pass, which names it.
  bool old_enough = false;
  std::string rest;
  BLUETRACE_RETURN_IF_ERROR(ForEachLine(
      fs_, path_,
      [&](std::string_view line, std::uint64_t, std::uint64_t) {
        Record r;
        if (!ParseRecord(line, r).empty()) {
          old_enough = true;
          return false;
        }
        if (r.event == kAuditPrunedEvent) return true;
        old_enough = static_cast<std::int64_t>(r.unix_time) < cutoff_unix;
        return false;
      },
      rest));
  if (!old_enough) return AuditPruneResult{};

  util::MutexLock l(mu_);
  if (failed_) return util::Unavailable(path_ + ": an earlier append failed; reopen the log");
  BLUETRACE_ASSIGN_OR_RETURN(auto lock, LockWriters());
  // One pass under the lock: check the chain, find the oldest records (an earlier anchor
  // goes with them) and where the kept lines start. Lines are canonical (ParseRecord), so a
  // record's line is FormatRecordLine of what Read gives.
  struct Scan {
    bool dropping = true;
    std::uint64_t dropped = 0, last_seq = 0, kept_offset = 0, end = 0;
    std::string last_hash;
    Tail tail;  // the file's last record, as ReadTail would find it
  } scan;
  scan.tail.hash = kGenesis;
  BLUETRACE_ASSIGN_OR_RETURN(
      const AuditVerifyResult verified, Read(fs_, path_, [&](const AuditRecord& r) {
        const bool anchor = r.event == kAuditPrunedEvent;
        scan.end += FormatRecordLine(r.seq, r.unix_time, r.text, r.prev_hash, r.hash).size() + 1;
        scan.tail.seq = r.seq;
        scan.tail.hash = anchor ? r.prev_hash : r.hash;
        if (!scan.dropping) return;
        if (!anchor && r.unix_time >= cutoff_unix) {
          scan.dropping = false;
          return;
        }
        scan.kept_offset = scan.end;
        if (anchor) return;
        ++scan.dropped;
        scan.last_seq = r.seq;
        scan.last_hash = r.hash;
      }));
  if (!verified.ok() && !verified.incomplete_last_line) {
    return util::Corruption(path_ + " line " + std::to_string(verified.bad_line) + ": " +
                            verified.problem + "; a broken chain is not pruned");
  }
  if (scan.dropped == 0) return AuditPruneResult{};

  BLUETRACE_ASSIGN_OR_RETURN(const std::string text,
                             FormatAnchorText(cutoff_unix, scan.dropped, fields));
  const std::int64_t now = clock_.NowUnixSeconds();
  const std::string body = std::to_string(scan.last_seq) + " " + std::to_string(now) + " " + text;
  const std::string anchor = FormatRecordLine(scan.last_seq, now, text, scan.last_hash,
                                              Sha256Hex(scan.last_hash + " " + body)) +
                             "\n";

  // The anchor, then the kept lines copied as they are (a torn last line left out).
  BLUETRACE_ASSIGN_OR_RETURN(auto in, fs_.OpenForRead(path_));
  std::uint64_t skip = scan.kept_offset, copy = scan.end - scan.kept_offset;
  bool anchor_written = false;
  const auto source = [&](std::string& out) -> Result<bool> {
    if (!anchor_written) {
      anchor_written = true;
      out = anchor;
      return true;
    }
    while (skip > 0 || copy > 0) {
      out.resize(static_cast<std::size_t>(std::min<std::uint64_t>(64 * 1024, skip + copy)));
      BLUETRACE_ASSIGN_OR_RETURN(std::size_t n, in->Read(out.data(), out.size()));
      if (n == 0) return util::Corruption(path_ + ": shorter than it was read while pruning");
      const std::size_t skipped = static_cast<std::size_t>(std::min<std::uint64_t>(skip, n));
      skip -= skipped;
      out.erase(0, skipped);
      out.resize(n - skipped);
      copy -= out.size();
      if (!out.empty()) return true;
    }
    return false;
  };
  BLUETRACE_RETURN_IF_ERROR(fs_.ReplaceFileFromSource(path_, source, 0600));

  // The old file is gone: append to the new one from now on.
  auto file = fs_.OpenForAppend(path_, 0600);
  auto info = file.ok() ? fs_.Stat(path_) : file.status();
  if (!info.ok()) {
    failed_ = true;
    return util::Unavailable(path_ + ": pruned, but not reopened: " + info.status().ToString());
  }
  file_ = std::move(*file);
  inode_ = info->inode;
  tail_ = scan.tail;
  if (scan.kept_offset == scan.end) {  // nothing kept: the anchor is the last record
    tail_.seq = scan.last_seq;
    tail_.hash = scan.last_hash;
  }
  tail_.size = anchor.size() + (scan.end - scan.kept_offset);
  return AuditPruneResult{scan.dropped, scan.last_seq};
}

std::string AuditLog::FormatRecordLine(std::uint64_t seq, std::int64_t unix_time,
                                       std::string_view text, std::string_view prev_hash,
                                       std::string_view hash) {
  std::string line = std::to_string(seq) + " " + std::to_string(unix_time) + " ";
  line += text;
  line += ' ';
  line += prev_hash;
  line += ' ';
  line += hash;
  return line;
}

Result<AuditVerifyResult> AuditLog::Verify(FileSystem& fs, const std::string& path) {
  return Read(fs, path, nullptr);
}

Result<AuditVerifyResult> AuditLog::Read(FileSystem& fs, const std::string& path,
                                         const std::function<void(const AuditRecord&)>& on_record) {
  AuditVerifyResult result;
  std::string prev = kGenesis;
  std::uint64_t expect_seq = 1;
  std::string rest;
  auto st = ForEachLine(
      fs, path,
      [&](std::string_view line, std::uint64_t no, std::uint64_t) {
        Record r;
        std::string problem = ParseRecord(line, r);
        const bool anchor = problem.empty() && r.event == kAuditPrunedEvent;
        if (anchor && no == 1) {
          // A prune's anchor: the chain runs on from the last dropped record.
          expect_seq = r.seq;
          prev = std::string(r.prev);
          result.anchored = true;
          result.chain_from = r.seq + 1;
        } else if (anchor) {
          problem = "an audit_pruned anchor after line 1 (a prune writes it as line 1 only)";
        }
        if (problem.empty() && r.seq != expect_seq) {
          problem = "sequence number " + std::to_string(r.seq) + " where " +
                    std::to_string(expect_seq) + " was expected (line removed or reordered)";
        } else if (problem.empty() && r.prev != prev) {
          problem = "previous-hash does not match the line before (line removed or reordered)";
        }
        if (!problem.empty()) {
          result.bad_line = no;
          result.problem = problem;
          return false;
        }
        if (!anchor) prev = std::string(r.hash);
        ++expect_seq;
        ++result.records;
        if (!on_record) return true;
        AuditRecord record;
        record.seq = r.seq;
        record.unix_time = static_cast<std::int64_t>(r.unix_time);
        record.event = std::string(r.event);
        // The text runs from the event to the space before the previous hash.
        const std::size_t text_start = static_cast<std::size_t>(r.event.data() - line.data());
        record.text =
            std::string(line.substr(text_start, line.size() - 2 * (kHashHex + 1) - text_start));
        record.prev_hash = std::string(r.prev);
        record.hash = std::string(r.hash);
        for (std::string_view f : r.fields) {
          const auto eq = f.find('=');
          record.fields.emplace_back(std::string(f.substr(0, eq)),
                                     *UnescapeValue(f.substr(eq + 1)));  // checked by ParseRecord
        }
        on_record(record);
        return true;
      },
      rest);
  if (!st.ok()) return st;
  if (result.ok() && !rest.empty()) {
    result.bad_line = result.records + 1;
    result.problem = "incomplete last line (torn write; the server repairs it at start-up)";
    result.incomplete_last_line = true;
  }
  return result;
}

}  // namespace bluetrace::store
