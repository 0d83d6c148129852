// bluetrace-admin audit: the records of <state_dir>/audit.log, one a line, with their times
// in UTC, checked against the hash chain as they are read. Reads only: no lock is taken and
// nothing is repaired (a torn last line is said, the server cuts it at start-up).
// bluetrace-admin audit prune: audit.retention applied now, on either backend.
#include <memory>
#include <string>

#include "admin_commands.hpp"
#include "bluetrace/store/files/audit_log.hpp"
#include "bluetrace/store/files/state_dir.hpp"

namespace bluetrace::admin {
namespace {

bool Wanted(const AuditQuery& query, const store::AuditRecord& r) {
  if (query.since && r.unix_time < *query.since) return false;
  if (query.events.empty()) return true;
  for (const auto& e : query.events) {
    if (!e.empty() && e.back() == '*' ? r.event.rfind(e.substr(0, e.size() - 1), 0) == 0
                                      : r.event == e) {
      return true;
    }
  }
  return false;
}

}  // namespace

int AuditPrune(AdminEnv& env, std::optional<std::int64_t> before) {
  const std::int64_t now = env.clock.NowUnixSeconds();
  if (!before && env.config.audit_retention_seconds == 0) {
    return Usage(env, "audit.retention is 0 (every record is kept): give --before <time>");
  }
  const std::int64_t cutoff = before ? *before : now - env.config.audit_retention_seconds;
  if (cutoff > now - service::kMinAuditRetentionSeconds) {
    return Usage(env, "audit prune: " + IsoUtc(cutoff) +
                          " is less than a day ago; records of the last day are always kept");
  }
  store::AuditFields by = {{"by", env.op.by}};
  if (!env.op.as.empty()) by.emplace_back("as", env.op.as);
  util::Result<store::AuditPruneResult> pruned = util::Unavailable("not run");
  if (OnDatabase(env)) {
    auto db = OpenDatabase(env);
    if (!db.ok()) return Fail(env, db.status().ToString());
    pruned = db->audit->Prune(cutoff, by);
  } else {
    const store::StateDir dir(env.config.state_dir);
    auto log = store::AuditLog::Open(env.fs, env.clock, dir.audit_log(), dir.audit_lock());
    pruned = log.ok() ? (*log)->Prune(cutoff, by) : log.status();
  }
  if (!pruned.ok()) return Fail(env, "audit prune: " + pruned.status().ToString());
  if (pruned->records_dropped == 0) {
    std::fprintf(env.out, "no audit record before %s\n", IsoUtc(cutoff).c_str());
  } else {
    std::fprintf(env.out,
                 "pruned %llu audit record%s before %s; the chain runs on from anchor "
                 "record %llu\n",
                 static_cast<unsigned long long>(pruned->records_dropped),
                 pruned->records_dropped == 1 ? "" : "s", IsoUtc(cutoff).c_str(),
                 static_cast<unsigned long long>(pruned->anchor_seq));
  }
  return kExitOk;
}

int ListAudit(AdminEnv& env, const AuditQuery& query) {
  if (OnDatabase(env)) {
    std::fputs(
        "bluetrace-admin: with storage.backend = \"postgres\" the audit chain is the database's "
        "audit table; `bluetrace-admin db export <dir>` writes it as audit.log, which "
        "`audit --state-dir <dir>` lists and checks\n",
        env.err);
    return kExitFailed;
  }
  const std::string path = store::StateDir(env.config.state_dir).audit_log();
  std::uint64_t shown = 0;
  auto result = store::AuditLog::Read(env.fs, path, [&](const store::AuditRecord& r) {
    if (!Wanted(query, r)) return;
    // Values as the file holds them (percent-encoded), so a name cannot forge a field, a
    // line or a terminal escape here either.
    std::string line = std::to_string(r.seq) + " " + IsoUtc(r.unix_time) + " " + r.event;
    for (const auto& [key, value] : r.fields) {
      line += " " + key + "=" + store::AuditLog::EscapeValue(value);
    }
    std::fprintf(env.out, "%s\n", line.c_str());
    ++shown;
  });
  if (!result.ok()) {
    if (result.status().code() != util::StatusCode::kNotFound) {
      std::fprintf(env.err, "bluetrace-admin: %s\n", result.status().ToString().c_str());
      return kExitFailed;
    }
    auto state = env.fs.Exists(env.config.state_dir);
    if (!state.ok() || !*state) {
      std::fprintf(env.err, "bluetrace-admin: no state directory %s\n",
                   env.config.state_dir.c_str());
      return kExitFailed;
    }
    std::fprintf(env.err, "no audit records (%s does not exist yet)\n", path.c_str());
    return kExitOk;
  }
  std::fflush(env.out);  // the records before what is said below, also on one pipe
  if (shown == 0) {
    std::fputs(result->records == 0 ? "no audit records\n" : "no audit record matches\n", env.err);
  }
  if (result->incomplete_last_line) {
    std::fputs(
        "audit.log: the last line is incomplete (being written now, or torn by a crash; the "
        "server cuts a torn line when it starts)\n",
        env.err);
  } else if (!result->ok()) {
    std::fprintf(env.err,
                 "bluetrace-admin: audit.log line %llu: %s; the records from there on are not "
                 "shown\n",
                 static_cast<unsigned long long>(result->bad_line), result->problem.c_str());
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace bluetrace::admin
