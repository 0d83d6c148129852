#include "bluetrace/store/files/file_staff_store.hpp"

#include <charconv>
#include <utility>

#include "bluetrace/store/files/state_dir.hpp"

namespace bluetrace::store {
namespace {

constexpr std::uint64_t kMaxFileBytes = 4 << 20;

template <typename T>
bool ParseNumber(std::string_view text, T& out) {
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && !text.empty();
}

}  // namespace

util::Result<FileStaffStore::Entries> ParseStaffFile(std::string_view content,
                                                     const std::string& path) {
  FileStaffStore::Entries out;
  std::size_t line_no = 0;
  while (!content.empty()) {
    ++line_no;
    const std::size_t end = content.find('\n');
    if (end == std::string_view::npos) {
      return util::Corruption(path + ":" + std::to_string(line_no) + ": no final newline");
    }
    const std::string_view line = content.substr(0, end);
    content.remove_prefix(end + 1);
    std::string_view fields[5];
    std::size_t n = 0;
    for (std::size_t pos = 0; pos <= line.size() && n < 6;) {
      std::size_t sp = line.find(' ', pos);
      if (sp == std::string_view::npos) sp = line.size();
      if (n < 5) fields[n] = line.substr(pos, sp - pos);
      ++n;
      pos = sp + 1;
    }
    FileStaffStore::Entry e;
    auto bad = [&](const std::string& why) {
      return util::Corruption(path + ":" + std::to_string(line_no) + ": " + why);
    };
    if (n != 5) return bad("expected <name> <role> <hash> <failures> <blocked_until>");
    if (!ValidateStaffName(fields[0]).ok()) return bad("not a staff name");
    auto role = ParseStaffRole(fields[1]);
    if (!role.ok()) return bad(role.status().message());
    if (fields[2].substr(0, 10) != "$argon2id$") return bad("not an Argon2id hash");
    if (!ParseNumber(fields[3], e.failures) || !ParseNumber(fields[4], e.blocked_until)) {
      return bad("bad failure count or block time");
    }
    e.member = StaffMember{std::string(fields[0]), *role, std::string(fields[2])};
    if (!out.emplace(e.member.name, std::move(e)).second) return bad("a name given twice");
  }
  return out;
}

std::string FormatStaffFile(const FileStaffStore::Entries& entries) {
  std::string out;
  for (const auto& [name, e] : entries) {
    out += name + " " + std::string(StaffRoleName(e.member.role)) + " " + e.member.password_hash +
           " " + std::to_string(e.failures) + " " + std::to_string(e.blocked_until) + "\n";
  }
  return out;
}

util::Result<std::unique_ptr<FileStaffStore>> FileStaffStore::Open(FileSystem& fs, std::string path,
                                                                   InterProcessLock lock) {
  std::unique_ptr<FileStaffStore> store(new FileStaffStore(fs, std::move(path), std::move(lock)));
  BLUETRACE_RETURN_IF_ERROR(store->Load().status());
  return store;
}

util::Result<FileStaffStore::Entries> FileStaffStore::Load() const {
  auto content = fs_.ReadFile(path_, kMaxFileBytes);
  if (content.status().code() == util::StatusCode::kNotFound) return Entries{};
  if (!content.ok()) return content.status();
  return ParseStaffFile(*content, path_);
}

template <typename F>
util::Status FileStaffStore::Modify(F change) {
  util::MutexLock w(write_mu_);
  BLUETRACE_ASSIGN_OR_RETURN(auto held, AcquireLock(fs_, lock_));
  BLUETRACE_ASSIGN_OR_RETURN(Entries entries, Load());
  BLUETRACE_RETURN_IF_ERROR(change(entries));
  return fs_.ReplaceFileAtomically(path_, FormatStaffFile(entries), StateDir::kFileMode);
}

util::Status FileStaffStore::Add(const StaffMember& member) {
  BLUETRACE_RETURN_IF_ERROR(ValidateStaffName(member.name));
  return Modify([&](Entries& entries) -> util::Status {
    if (!entries.emplace(member.name, Entry{member, 0, 0}).second) {
      return util::AlreadyExists("staff member " + member.name + " exists already");
    }
    return util::Status::Ok();
  });
}

util::Status FileStaffStore::Remove(std::string_view name) {
  BLUETRACE_RETURN_IF_ERROR(Modify([&](Entries& entries) -> util::Status {
    auto it = entries.find(name);
    if (it == entries.end()) return util::NotFound("no staff member " + std::string(name));
    entries.erase(it);
    return util::Status::Ok();
  }));
  EndSessionsOf(name);
  return util::Status::Ok();
}

util::Status FileStaffStore::SetPasswordHash(std::string_view name, std::string_view hash) {
  BLUETRACE_RETURN_IF_ERROR(Modify([&](Entries& entries) -> util::Status {
    auto it = entries.find(name);
    if (it == entries.end()) return util::NotFound("no staff member " + std::string(name));
    it->second.member.password_hash = std::string(hash);
    it->second.failures = 0;
    it->second.blocked_until = 0;
    return util::Status::Ok();
  }));
  EndSessionsOf(name);
  return util::Status::Ok();
}

util::Result<std::optional<StaffMember>> FileStaffStore::Find(std::string_view name) {
  BLUETRACE_ASSIGN_OR_RETURN(Entries entries, Load());
  auto it = entries.find(name);
  if (it == entries.end()) return std::optional<StaffMember>();
  return std::optional<StaffMember>(it->second.member);
}

util::Result<std::vector<StaffMember>> FileStaffStore::List() {
  BLUETRACE_ASSIGN_OR_RETURN(Entries entries, Load());
  std::vector<StaffMember> out;
  for (auto& [name, e] : entries) out.push_back(std::move(e.member));
  return out;
}

util::Result<std::int64_t> FileStaffStore::BlockedUntil(std::string_view name, std::int64_t now) {
  BLUETRACE_ASSIGN_OR_RETURN(Entries entries, Load());
  auto it = entries.find(name);
  if (it == entries.end() || it->second.blocked_until <= now) return std::int64_t{0};
  return it->second.blocked_until;
}

util::Result<std::int64_t> FileStaffStore::RecordFailure(std::string_view name, std::int64_t now,
                                                         std::uint32_t max_failures,
                                                         std::int64_t block_seconds) {
  std::int64_t until = 0;
  BLUETRACE_RETURN_IF_ERROR(Modify([&](Entries& entries) -> util::Status {
    auto it = entries.find(name);
    if (it == entries.end()) return util::NotFound("no staff member " + std::string(name));
    Entry& e = it->second;
    if (e.blocked_until > now) {
      until = e.blocked_until;
      return util::Status::Ok();
    }
    if (e.blocked_until != 0) e.failures = 0;  // a block that ran out: count from zero
    e.blocked_until = 0;
    if (++e.failures >= max_failures) {
      e.failures = max_failures;
      e.blocked_until = now + block_seconds;
    }
    until = e.blocked_until;
    return util::Status::Ok();
  }));
  return until;
}

util::Status FileStaffStore::RecordSuccess(std::string_view name) {
  BLUETRACE_ASSIGN_OR_RETURN(Entries current, Load());
  auto found = current.find(name);
  if (found == current.end() || (found->second.failures == 0 && found->second.blocked_until == 0))
    return util::Status::Ok();  // nothing to forget: no rewrite
  return Modify([&](Entries& entries) -> util::Status {
    auto it = entries.find(name);
    if (it != entries.end()) {
      it->second.failures = 0;
      it->second.blocked_until = 0;
    }
    return util::Status::Ok();
  });
}

util::Status FileStaffStore::CreateSession(const ConsoleSession& session) {
  util::MutexLock l(mu_);
  if (!sessions_.emplace(session.token_hash, session).second) {
    return util::AlreadyExists("console session exists already");
  }
  return util::Status::Ok();
}

util::Result<std::optional<ConsoleSession>> FileStaffStore::FindSession(
    std::string_view token_hash) {
  util::MutexLock l(mu_);
  auto it = sessions_.find(token_hash);
  if (it == sessions_.end()) return std::optional<ConsoleSession>();
  return std::optional<ConsoleSession>(it->second);
}

util::Status FileStaffStore::TouchSession(std::string_view token_hash, std::int64_t now) {
  util::MutexLock l(mu_);
  auto it = sessions_.find(token_hash);
  if (it == sessions_.end()) return util::NotFound("no such console session");
  it->second.last_seen = now;
  return util::Status::Ok();
}

util::Status FileStaffStore::DeleteSession(std::string_view token_hash) {
  util::MutexLock l(mu_);
  if (auto it = sessions_.find(token_hash); it != sessions_.end()) sessions_.erase(it);
  return util::Status::Ok();
}

util::Status FileStaffStore::DeleteExpiredSessions(std::int64_t idle_before,
                                                   std::int64_t created_before) {
  util::MutexLock l(mu_);
  std::erase_if(sessions_, [&](const auto& kv) {
    return kv.second.last_seen < idle_before || kv.second.created_at < created_before;
  });
  return util::Status::Ok();
}

void FileStaffStore::EndSessionsOf(std::string_view name) {
  util::MutexLock l(mu_);
  std::erase_if(sessions_, [&](const auto& kv) { return kv.second.staff == name; });
}

}  // namespace bluetrace::store
