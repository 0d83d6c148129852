// bluetrace-admin verify: reads every state file without changing any, and prints one
// "<file> line <n>: <problem>" per problem found. The one thing it removes is what is no
// state: temporary files left by interrupted writes (store/files/leftover_temp_files.hpp).
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin_commands.hpp"
#include "bluetrace/protocol/text_lines.hpp"
#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/store/files/audit_log.hpp"
#include "bluetrace/store/files/file_contact_status_store.hpp"
#include "bluetrace/store/files/file_lockout_store.hpp"
#include "bluetrace/store/files/file_report_store.hpp"
#include "bluetrace/store/files/file_staff_store.hpp"
#include "bluetrace/store/files/file_tempid_store.hpp"
#include "bluetrace/store/files/file_upload_code_store.hpp"
#include "bluetrace/store/files/leftover_temp_files.hpp"
#include "bluetrace/store/files/state_dir.hpp"
#include "bluetrace/util/secret.hpp"

namespace bluetrace::admin {
namespace {

using store::JoinPath;

// The state file `name`, or nothing when it is missing (no problem: the server creates it)
// or cannot be read (then the error is a problem).
std::optional<std::string> ReadStateFile(AdminEnv& env, const std::string& name,
                                         std::vector<std::string>& problems) {
  auto text = env.fs.ReadFile(store::StateDir(env.config.state_dir).Path(name), 1ull << 36);
  if (text.ok()) return std::move(*text);
  if (text.status().code() != util::StatusCode::kNotFound) {
    problems.push_back(text.status().ToString());
  }
  return std::nullopt;
}

// Every line of a text file through `parse`, collecting each line's problem.
template <typename Parse>
void CheckLines(AdminEnv& env, const std::string& name, Parse parse,
                std::vector<std::string>& problems) {
  const std::optional<std::string> text = ReadStateFile(env, name, problems);
  if (!text) return;
  util::Status st = protocol::ForEachLine(*text, name, [&](const protocol::TextLine& line) {
    util::Status parsed = parse(line.text);
    if (!parsed.ok()) {
      problems.push_back(name + " line " + std::to_string(line.number) + ": " + parsed.message());
    }
    return util::Status::Ok();
  });
  if (!st.ok()) problems.push_back(st.message());
}

// A whole file through `parse` (the file's one parser, which names the file as it is given
// `name`, and the line: "staff.txt:3: ..." or "upload-codes.txt line 3: ..."); it stops at
// the file's first problem.
template <typename Parse>
void CheckFile(AdminEnv& env, const std::string& name, Parse parse,
               std::vector<std::string>& problems) {
  std::optional<std::string> text = ReadStateFile(env, name, problems);
  if (!text) return;
  const util::Status parsed = parse(*text, name);
  util::WipeString(*text);  // staff.txt holds password hashes
  if (!parsed.ok()) problems.push_back(parsed.message());
}

// Removes the leftover temporary files it may and says what it found; a file it failed
// to remove is a problem, a file kept because its writer may still run is not.
void RemoveLeftovers(AdminEnv& env, bool may_remove, std::vector<std::string>& problems) {
  store::LeftoverTempFileOptions options;
  options.remove = may_remove;
  options.lock_timeout = std::chrono::seconds(30);  // as the tool's other waits for them
  auto found = store::RemoveLeftoverTempFiles(env.fs, env.config.state_dir, options);
  if (!found.ok()) {
    problems.push_back(found.status().ToString());
    return;
  }
  if (found->removed_files > 0) {
    std::fprintf(env.out, "removed %s of interrupted writes\n",
                 store::DescribeLeftovers(found->removed_files, found->removed_bytes).c_str());
  }
  if (found->kept_files > 0) {
    std::string why;
    if (!may_remove) {
      why = "run verify as the owner of " + env.config.state_dir + " to remove them";
    } else if (found->server_running) {
      why = "a server is running on " + env.config.state_dir +
            " (or bluetrace-admin compact is) and may be writing them; the server removes "
            "leftovers when it starts";
    }
    for (const auto& st : found->kept_because) why += (why.empty() ? "" : "; ") + st.ToString();
    std::fprintf(env.out, "left %s in place: %s\n",
                 store::DescribeLeftovers(found->kept_files, found->kept_bytes).c_str(),
                 why.c_str());
  }
  for (const auto& st : found->errors) problems.push_back(st.ToString());
}

}  // namespace

int Verify(AdminEnv& env, bool may_remove) {
  if (OnDatabase(env)) {
    // The database keeps its own integrity (keys, constraints, transactions); what can be
    // wrong from here is reaching it and its schema version, which opening checks.
    auto db = OpenDatabase(env);
    if (!db.ok()) {
      std::fprintf(env.err, "bluetrace-admin: %s\n", db.status().ToString().c_str());
      return kExitFailed;
    }
    for (const auto& note : db->notes) std::fprintf(env.out, "%s\n", note.c_str());
    std::fputs("database: reachable, schema version as this build expects\n", env.out);
    return kExitOk;
  }
  std::vector<std::string> problems;
  RemoveLeftovers(env, may_remove, problems);
  CheckLines(
      env, store::StateDir::kCredentials,
      [](std::string_view line) { return protocol::ParseCredentialsLine(line).status(); },
      problems);
  // tempIDs.txt has one owner of its format too; its tests check torn tails with this.
  auto tempids = store::FileTempIdStore::VerifyFile(
      env.fs, store::StateDir(env.config.state_dir).tempids(), env.config.time_mode);
  if (!tempids.ok()) {
    problems.push_back(tempids.status().ToString());
  } else {
    problems.insert(problems.end(), tempids->begin(), tempids->end());
  }

  // lockouts.txt has one owner of its format: the store, which names the bad line.
  store::LockoutPolicy policy;
  policy.max_failures = env.config.max_failed_logins;
  policy.block_seconds = env.config.block_duration_seconds;
  auto lockouts = store::FileLockoutStore::Open(
      env.fs, store::StateDir(env.config.state_dir).lockouts(), policy, env.clock);
  if (!lockouts.ok()) problems.push_back(lockouts.status().message());

  // The health authority's files, each through its one parser: every line parses, no name
  // or phone number twice, phone numbers canonical.
  using Parser = util::Status (*)(std::string_view, const std::string&);
  static constexpr std::pair<const char*, Parser> kHealthAuthorityFiles[] = {
      {store::StateDir::kStaff,
       [](std::string_view t, const std::string& n) {
         return store::ParseStaffFile(t, n).status();
       }},
      {store::StateDir::kContactStatus,
       [](std::string_view t, const std::string& n) {
         return store::ParseContactStatusFile(t, n).status();
       }},
      {store::StateDir::kUploadCodes,
       [](std::string_view t, const std::string& n) {
         return store::ParseUploadCodesFile(t, n).status();
       }},
      {store::StateDir::kCodeFailures,
       [](std::string_view t, const std::string& n) {
         return store::ParseLockoutsFile(t, n).status();
       }},
  };
  for (const auto& [name, parse] : kHealthAuthorityFiles) CheckFile(env, name, parse, problems);

  const std::string reports_dir = store::StateDir(env.config.state_dir).reports();
  if (auto exists = env.fs.Exists(reports_dir); exists.ok() && *exists) {
    auto names = env.fs.ListDir(reports_dir);
    if (!names.ok()) problems.push_back(names.status().ToString());
    for (const auto& n : names.ok() ? *names : std::vector<std::string>{}) {
      if (!store::IsReportName(n)) {
        if (n.empty() || n[0] != '.') problems.push_back("reports/" + n + ": not a report's name");
        continue;
      }
      auto text = env.fs.ReadFile(JoinPath(reports_dir, n));
      if (!text.ok()) {
        problems.push_back(text.status().ToString());
      } else if (text->empty() || text->back() != '\n') {
        problems.push_back("reports/" + n + ": empty or cut short");
      }
    }
  }

  const std::string audit_path = store::StateDir(env.config.state_dir).audit_log();
  auto audit = store::AuditLog::Verify(env.fs, audit_path);
  std::uint64_t audit_records = 0;
  std::string anchored;  // after a prune: where the kept chain starts
  if (!audit.ok()) {
    if (audit.status().code() != util::StatusCode::kNotFound) {
      problems.push_back(audit.status().ToString());
    }
  } else if (!audit->ok()) {
    problems.push_back("audit.log line " + std::to_string(audit->bad_line) + ": " + audit->problem);
  } else {
    audit_records = audit->records;
    if (audit->anchored) {
      anchored = "; chain from record " + std::to_string(audit->chain_from) + ", anchored";
    }
  }

  for (const auto& p : problems) std::fprintf(env.out, "%s\n", p.c_str());
  if (!problems.empty()) {
    std::fprintf(env.err, "bluetrace-admin: %zu problem%s found in %s\n", problems.size(),
                 problems.size() == 1 ? "" : "s", env.config.state_dir.c_str());
    return kExitFailed;
  }
  std::fprintf(env.out, "state in %s is consistent (audit chain of %llu records holds%s)\n",
               env.config.state_dir.c_str(), static_cast<unsigned long long>(audit_records),
               anchored.c_str());
  return kExitOk;
}

}  // namespace bluetrace::admin
