#include "bluetrace/store/postgres/pg_transfer.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "../files/tempid_file.hpp"
#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/store/files/audit_log.hpp"
#include "bluetrace/store/files/file_contact_status_store.hpp"
#include "bluetrace/store/files/file_lockout_store.hpp"
#include "bluetrace/store/files/file_staff_store.hpp"
#include "bluetrace/store/files/file_upload_code_store.hpp"
#include "bluetrace/store/files/state_dir.hpp"
#include "bluetrace/store/report_store.hpp"
#include "bluetrace/util/secret.hpp"

namespace bluetrace::store {
namespace {

// Longest tempIDs.txt line accepted (the file backend's default bound).
constexpr std::size_t kMaxTempIdLineBytes = 256;
// COPY data is sent in pieces of about this size.
constexpr std::size_t kCopyPieceBytes = 256 * 1024;
// Duplicate TempID lines named in a note, at most.
constexpr int kMaxLinesNamed = 10;

// The transaction of an import or export: rolled back unless committed, also when the
// function returns early with an error.
class Transaction {
 public:
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (open_) (void)conn_.ExecScript("roll back", "ROLLBACK");
  }

  // `begin` is a fixed BEGIN statement. Bulk transfers run offline and may take long: the
  // statement timeout is lifted for this transaction only.
  static Result<std::unique_ptr<Transaction>> Begin(PgConnection& conn, const char* begin) {
    BLUETRACE_RETURN_IF_ERROR(conn.ExecScript("begin", begin));
    std::unique_ptr<Transaction> t(new Transaction(conn));
    BLUETRACE_RETURN_IF_ERROR(
        conn.ExecScript("lift statement timeout", "SET LOCAL statement_timeout = 0"));
    return t;
  }

  Status Commit() {
    open_ = false;
    return conn_.ExecScript("commit", "COMMIT");
  }

 private:
  explicit Transaction(PgConnection& conn) : conn_(conn) {}
  PgConnection& conn_;
  bool open_ = true;
};

// The file's contents, or nullopt when it does not exist.
Result<std::optional<std::string>> ReadIfExists(FileSystem& fs, const std::string& path) {
  auto text = fs.ReadFile(path);
  if (text.ok()) return std::optional<std::string>(std::move(text).value());
  if (text.status().code() == util::StatusCode::kNotFound) return std::optional<std::string>();
  return text.status();
}

// ---------------------------------------------------------------- import

Status CheckEmpty(PgConnection& conn, bool merge) {
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn.Exec("check for existing state",
                          "SELECT EXISTS (SELECT 1 FROM users), EXISTS (SELECT 1 FROM tempids), "
                          "EXISTS (SELECT 1 FROM lockouts), EXISTS (SELECT 1 FROM reports), "
                          "EXISTS (SELECT 1 FROM audit), EXISTS (SELECT 1 FROM devices), "
                          "EXISTS (SELECT 1 FROM console_staff), "
                          "EXISTS (SELECT 1 FROM contact_status), "
                          "EXISTS (SELECT 1 FROM upload_codes), "
                          "EXISTS (SELECT 1 FROM upload_code_failures), "
                          "EXISTS (SELECT 1 FROM upload_codes_issued)"));
  static constexpr const char* kTables[] = {"users",
                                            "tempids",
                                            "lockouts",
                                            "reports",
                                            "audit",
                                            "devices",
                                            "console_staff",
                                            "contact_status",
                                            "upload_codes",
                                            "upload_code_failures",
                                            "upload_codes_issued"};
  std::string held;
  for (int i = 0; i < static_cast<int>(std::size(kTables)); ++i) {
    if (res.Get(0, i) == "t") held += std::string(held.empty() ? "" : ", ") + kTables[i];
  }
  if (held.empty() || merge) return Status::Ok();
  return util::FailedPrecondition("the database already holds state (" + held +
                                  "); import into an empty database, or merge into it");
}

Status ImportUsers(PgConnection& conn, FileSystem& fs, const StateDir& dir,
                   const ImportOptions& options, TransferStats& stats) {
  const std::string path = dir.credentials();
  BLUETRACE_ASSIGN_OR_RETURN(auto text, ReadIfExists(fs, path));
  if (!text) return Status::Ok();
  auto parsed = protocol::ParseCredentialsFile(*text, path);
  util::WipeString(*text);
  if (!parsed.ok()) return parsed.status();
  util::Random& random =
      options.random != nullptr ? *options.random : util::OpenSslRandom::Instance();
  std::int64_t order = 0;
  for (protocol::CredentialsEntry& entry : *parsed) {
    util::SecretString secret = std::move(entry.secret);
    if (!entry.hashed) {
      // The file backend's own upgrade of a plaintext line (FileUserStore::MigrateAll).
      auto hash = HashPassword(secret.view(), options.argon2, random);
      if (!hash.ok()) return hash.status().WithContext("hashing the password of " + entry.user);
      secret = util::SecretString(*hash);
      util::WipeString(*hash);
      ++stats.hashed_passwords;
    }
    // `created` keeps the file's order for export: the import's time plus the line's rank
    // in microseconds.
    BLUETRACE_ASSIGN_OR_RETURN(
        auto res, conn.Exec("import user " + entry.user,
                            "INSERT INTO users (phone, secret, created) "
                            "VALUES ($1, $2, now() + $3::bigint * interval '1 microsecond') "
                            "ON CONFLICT (phone) DO NOTHING",
                            {entry.user, std::string(secret.view()), std::to_string(order++)}));
    if (res.affected_rows() == 1) {
      ++stats.users;
    } else {
      ++stats.skipped;
    }
  }
  return Status::Ok();
}

// The lockout tables: login failures (lockouts.txt) and wrong upload codes
// (upload-code-failures.txt), one file format and one table layout for both.
struct LockoutFile {
  std::string path;
  const char* table;  // "lockouts" or "upload_code_failures": a constant, never input
};

Status ImportLockouts(PgConnection& conn, FileSystem& fs, const LockoutFile& file,
                      std::uint64_t& imported, TransferStats& stats) {
  const std::string& path = file.path;
  BLUETRACE_ASSIGN_OR_RETURN(auto text, ReadIfExists(fs, path));
  if (!text) return Status::Ok();
  BLUETRACE_ASSIGN_OR_RETURN(auto lines, ParseLockoutsFile(*text, path));
  const std::string insert = std::string("INSERT INTO ") + file.table +
                             " (key, failures, blocked_until, known, updated) "
                             "VALUES ($1, $2::integer, $3::bigint, true, 0) "
                             "ON CONFLICT (key) DO NOTHING";
  for (const LockoutLine& line : lines) {
    // The file holds known users only (store/files/file_lockout_store.hpp).
    BLUETRACE_ASSIGN_OR_RETURN(auto res, conn.Exec(path + ": lockout of " + line.user, insert,
                                                   {line.user, std::to_string(line.failures),
                                                    std::to_string(line.blocked_until)}));
    if (res.affected_rows() == 1) {
      ++imported;
    } else {
      ++stats.skipped;
    }
  }
  return Status::Ok();
}

// The staff file parsers answer kCorruption (a store that cannot open); to an import a bad
// line is bad input, named as the parser names it ("<path>:<line>: <why>").
Status AsBadInput(const Status& st) {
  if (st.code() != util::StatusCode::kCorruption) return st;
  return util::InvalidArgument(st.message());
}

// staff.txt: accounts with their hashes and login failures as stored.
Status ImportStaff(PgConnection& conn, FileSystem& fs, const StateDir& dir, TransferStats& stats) {
  const std::string path = dir.staff();
  BLUETRACE_ASSIGN_OR_RETURN(auto text, ReadIfExists(fs, path));
  if (!text) return Status::Ok();
  auto parsed = ParseStaffFile(*text, path);
  util::WipeString(*text);
  if (!parsed.ok()) return AsBadInput(parsed.status());
  for (const auto& [name, e] : *parsed) {
    BLUETRACE_ASSIGN_OR_RETURN(
        auto res,
        conn.Exec(path + ": staff member " + name,
                  "INSERT INTO console_staff (name, role, password_hash, failures, "
                  "blocked_until) VALUES ($1, $2, $3, $4::integer, $5::bigint) "
                  "ON CONFLICT (name) DO NOTHING",
                  {name, std::string(StaffRoleName(e.member.role)), e.member.password_hash,
                   std::to_string(e.failures), std::to_string(e.blocked_until)}));
    if (res.affected_rows() == 1) {
      ++stats.staff;
    } else {
      ++stats.skipped;
    }
  }
  return Status::Ok();
}

Status ImportContactStatuses(PgConnection& conn, FileSystem& fs, const StateDir& dir,
                             TransferStats& stats) {
  const std::string path = dir.contact_status();
  BLUETRACE_ASSIGN_OR_RETURN(auto text, ReadIfExists(fs, path));
  if (!text) return Status::Ok();
  auto parsed = ParseContactStatusFile(*text, path);
  if (!parsed.ok()) return AsBadInput(parsed.status());
  for (const ContactStatusRecord& r : *parsed) {
    BLUETRACE_ASSIGN_OR_RETURN(
        auto res, conn.Exec(path + ": contact status of a phone number",
                            "INSERT INTO contact_status (phone, status, note, updated_by, "
                            "updated_at) VALUES ($1, $2, $3, $4, $5::bigint) "
                            "ON CONFLICT (phone) DO NOTHING",
                            {r.phone, std::string(ContactStatusName(r.status)), r.note,
                             r.updated_by, std::to_string(r.updated_at)}));
    if (res.affected_rows() == 1) {
      ++stats.contact_statuses;
    } else {
      ++stats.skipped;
    }
  }
  return Status::Ok();
}

// upload-codes.txt: the codes' keyed digests (never a code), expired ones included (the
// server refuses them as expired either way).
Status ImportUploadCodes(PgConnection& conn, FileSystem& fs, const StateDir& dir,
                         TransferStats& stats) {
  const std::string path = dir.upload_codes();
  BLUETRACE_ASSIGN_OR_RETURN(auto text, ReadIfExists(fs, path));
  if (!text) return Status::Ok();
  BLUETRACE_ASSIGN_OR_RETURN(UploadCodesFile file, ParseUploadCodesFile(*text, path));
  for (const UploadCodeRecord& r : file.codes) {
    BLUETRACE_ASSIGN_OR_RETURN(
        auto res,
        conn.Exec(path + ": upload code of a phone number",
                  "INSERT INTO upload_codes (phone, digest, issued_at, expires_at) "
                  "VALUES ($1, $2, $3::bigint, $4::bigint) "
                  "ON CONFLICT (phone) DO NOTHING",
                  {r.phone, r.digest, std::to_string(r.issued_at), std::to_string(r.expires_at)}));
    if (res.affected_rows() == 1) {
      ++stats.upload_codes;
    } else {
      ++stats.skipped;
    }
  }
  // The activity chart's counts; a merge keeps a day the database already counts.
  for (const auto& [day, codes] : file.issued_per_day) {
    BLUETRACE_ASSIGN_OR_RETURN(
        auto res, conn.Exec(path + ": codes issued on a day",
                            "INSERT INTO upload_codes_issued (day, codes) "
                            "VALUES ($1::bigint, $2::bigint) ON CONFLICT (day) DO NOTHING",
                            {std::to_string(day), std::to_string(codes)}));
    if (res.affected_rows() == 1) {
      ++stats.code_days;
    } else {
      ++stats.skipped;
    }
  }
  if (stats.upload_codes > 0) {
    stats.notes.push_back(
        path + ": upload codes are kept as digests keyed with the server's upload code key (" +
        dir.Path(StateDir::kCodeKey) +
        " by default): name that key file as upload.code_key_file on every instance, or "
        "the imported codes will not redeem");
  }
  return Status::Ok();
}

// Partitions of `tempids` (one per UTC day of expiry, packaging/sql/002) for every day the
// staged records need. Creating one locks `tempids` exclusively until the end of the
// transaction, so this runs before anything else touches `tempids` (later it would be a
// lock upgrade that can deadlock with a server's insert).
constexpr const char* kEnsureTempIdPartitions = R"sql(
SELECT bluetrace_ensure_tempid_partition(d)
FROM (SELECT DISTINCT floor(expiry / 86400.0)::integer AS d FROM tempids_import) AS days)sql";

// The one statement that moves the staged records into `tempids`: the first line of each
// TempID, unless the database holds it already. The partitioned table keeps no unique
// index on tempid alone; the import's table lock keeps out every other writer
// (bluetrace_insert_tempids inserts), so NOT EXISTS cannot race.
constexpr const char* kInsertStagedTempIds = R"sql(
INSERT INTO tempids (tempid, phone, start, expiry, day)
SELECT DISTINCT ON (tempid) tempid, phone, start, expiry, floor(expiry / 86400.0)::integer
FROM tempids_import i
WHERE NOT EXISTS (SELECT 1 FROM tempids t WHERE t.tempid = i.tempid)
ORDER BY tempid, line)sql";

// Streams tempIDs.txt into the staging table `tempids_import` (dropped at commit) and
// creates the partitions it needs. Returns the records staged (0 without a file).
Result<std::uint64_t> StageTempIds(PgConnection& conn, FileSystem& fs, const StateDir& dir,
                                   const ImportOptions& options) {
  const std::string path = dir.tempids();
  BLUETRACE_ASSIGN_OR_RETURN(const bool exists, fs.Exists(path));
  if (!exists) return std::uint64_t{0};
  BLUETRACE_RETURN_IF_ERROR(conn.ExecScript(
      "create TempID staging table",
      "CREATE TEMP TABLE tempids_import (line bigint NOT NULL, tempid char(20) NOT NULL, "
      "phone text NOT NULL, start bigint NOT NULL, expiry bigint NOT NULL) ON COMMIT DROP"));
  BLUETRACE_ASSIGN_OR_RETURN(
      const std::uint64_t staged,
      conn.CopyIn(
          "copy " + path, "COPY tempids_import (line, tempid, phone, start, expiry) FROM STDIN",
          [&](const PgConnection::CopyWriter& write) -> Status {
            // COPY's text format: tab-separated; no field can hold a tab, a
            // newline or a backslash (digits, and a canonical "+<digits>").
            std::string piece;
            auto scan = internal::ScanTempIdFile(
                fs, path, options.time_mode, kMaxTempIdLineBytes,
                [&](const protocol::TextLine& line, const protocol::TempIdRecord& r) -> Status {
                  piece += std::to_string(line.number);
                  piece += '\t';
                  piece += r.id.view();
                  piece += '\t';
                  piece += r.user;
                  piece += '\t';
                  piece += std::to_string(r.start);
                  piece += '\t';
                  piece += std::to_string(r.expiry);
                  piece += '\n';
                  if (piece.size() < kCopyPieceBytes) return Status::Ok();
                  Status st = write(piece);
                  piece.clear();
                  return st;
                });
            if (!scan.ok()) return scan.status();
            if (scan->torn) {
              return util::InvalidArgument(
                  scan->torn_reason + " (a torn write: the server cuts it off when it starts)");
            }
            return write(piece);
          }));
  if (staged > 0) {
    BLUETRACE_RETURN_IF_ERROR(
        conn.Exec("create TempID partitions", kEnsureTempIdPartitions).status());
  }
  return staged;
}

// Moves the staged records into `tempids`, checking them against what it holds.
Status InsertTempIds(PgConnection& conn, const StateDir& dir, std::uint64_t staged,
                     TransferStats& stats) {
  if (staged == 0) return Status::Ok();
  const std::string path = dir.tempids();
  // A TempID the database holds for another record: one of the two would be lost.
  BLUETRACE_ASSIGN_OR_RETURN(
      auto clash,
      conn.Exec("check TempIDs against the database",
                "SELECT i.line, i.tempid FROM tempids_import i JOIN tempids t USING (tempid) "
                "WHERE (t.phone, t.start, t.expiry) <> (i.phone, i.start, i.expiry) "
                "ORDER BY i.line LIMIT 1"));
  if (clash.rows() > 0) {
    return util::InvalidArgument(path + " line " + std::string(clash.Get(0, 0)) + ": TempID " +
                                 std::string(clash.Get(0, 1)) +
                                 " is in the database with another user or time");
  }
  // Lines repeating an earlier line's TempID: as the file backend loads the file, the first
  // record wins and the others are left out.
  BLUETRACE_ASSIGN_OR_RETURN(
      auto dups, conn.Exec("find duplicate TempIDs",
                           "SELECT line FROM (SELECT line, row_number() OVER "
                           "(PARTITION BY tempid ORDER BY line) AS n FROM tempids_import) d "
                           "WHERE n > 1 ORDER BY line"));
  if (dups.rows() > 0) {
    std::string lines;
    for (int i = 0; i < dups.rows() && i < kMaxLinesNamed; ++i) {
      lines += std::string(i == 0 ? "" : ", ") + std::string(dups.Get(i, 0));
    }
    if (dups.rows() > kMaxLinesNamed) lines += ", ...";
    stats.notes.push_back(path + ": " + std::to_string(dups.rows()) +
                          " line(s) repeat the TempID of an earlier line and were left out, "
                          "as the server does (line " +
                          lines + ")");
  }
  BLUETRACE_ASSIGN_OR_RETURN(auto inserted,
                             conn.Exec("insert staged TempIDs", kInsertStagedTempIds));
  stats.tempids = inserted.affected_rows();
  stats.skipped += staged - static_cast<std::uint64_t>(dups.rows()) - stats.tempids;
  return Status::Ok();
}

Status ImportReports(PgConnection& conn, FileSystem& fs, const StateDir& dir,
                     TransferStats& stats) {
  const std::string reports = dir.reports();
  BLUETRACE_ASSIGN_OR_RETURN(const bool exists, fs.Exists(reports));
  if (!exists) return Status::Ok();
  BLUETRACE_ASSIGN_OR_RETURN(auto names, fs.ListDir(reports));
  std::uint64_t other = 0;
  for (const std::string& name : names) {
    // Only names of a report's shape are reports (FileReportStore lists no others).
    auto parts = ParseReportName(name);
    if (!parts.ok()) {
      ++other;
      continue;
    }
    const std::string path = JoinPath(reports, name);
    BLUETRACE_ASSIGN_OR_RETURN(auto text, fs.ReadFile(path));
    BLUETRACE_ASSIGN_OR_RETURN(
        auto res, conn.Exec("import report " + path,
                            "INSERT INTO reports (name, uploader, received_at, text) "
                            "VALUES ($1, $2, $3::bigint, $4) ON CONFLICT (name) DO NOTHING",
                            {name, parts->uploader, std::to_string(parts->received_at), text}));
    if (res.affected_rows() == 1) {
      ++stats.reports;
      continue;
    }
    BLUETRACE_ASSIGN_OR_RETURN(
        auto held,
        conn.Exec("read report " + name, "SELECT text FROM reports WHERE name = $1", {name}));
    if (held.rows() != 1 || held.Get(0, 0) != text) {
      return util::InvalidArgument(path + ": the database holds another report of that name");
    }
    ++stats.skipped;
  }
  if (other > 0) {
    stats.notes.push_back(reports + ": " + std::to_string(other) +
                          " file(s) not named like a report were left out");
  }
  return Status::Ok();
}

Status ImportAudit(PgConnection& conn, FileSystem& fs, const StateDir& dir, TransferStats& stats) {
  const std::string path = dir.audit_log();
  BLUETRACE_ASSIGN_OR_RETURN(const bool exists, fs.Exists(path));
  if (!exists) return Status::Ok();
  BLUETRACE_ASSIGN_OR_RETURN(const std::uint64_t size, fs.FileSize(path));
  if (size == 0) return Status::Ok();
  BLUETRACE_ASSIGN_OR_RETURN(
      auto held, conn.Exec("check for an audit chain", "SELECT EXISTS (SELECT 1 FROM audit)"));
  if (held.Get(0, 0) == "t") {
    return util::FailedPrecondition(path +
                                    ": the database has an audit chain of its own; two chains "
                                    "cannot be joined");
  }
  // The file backend's verifier reads the chain; each record that holds goes in, and a
  // line that breaks it fails the import, which rolls back what went in before it.
  Status insert_error;
  BLUETRACE_ASSIGN_OR_RETURN(
      auto read, AuditLog::Read(fs, path, [&](const AuditRecord& r) {
        if (!insert_error.ok()) return;
        const std::size_t space = r.text.find(' ');
        const std::string fields = space == std::string::npos ? "" : r.text.substr(space + 1);
        // As PgAuditTrail stores a record: the hashed text split into event and fields.
        insert_error =
            conn.Exec(path + ": audit record " + std::to_string(r.seq),
                      "INSERT INTO audit (seq, time, event, fields, prev_hash, hash) VALUES "
                      "($1::bigint, $2::bigint, $3, $4, decode($5, 'hex'), decode($6, 'hex'))",
                      {std::to_string(r.seq), std::to_string(r.unix_time), r.event, fields,
                       r.prev_hash, r.hash})
                .status();
        if (insert_error.ok()) ++stats.audit_records;
      }));
  BLUETRACE_RETURN_IF_ERROR(insert_error);
  if (!read.ok()) {
    return util::InvalidArgument(path + " line " + std::to_string(read.bad_line) + ": " +
                                 read.problem);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- export

// Streams the rows of `query` through a server-side cursor, `batch` rows per round trip,
// into the file `path`: `line` formats one row (without its line end).
Status ExportRows(PgConnection& conn, FileSystem& fs, const std::string& path,
                  const std::string& query, int batch,
                  const std::function<Result<std::string>(const PgResult&, int)>& line,
                  std::uint64_t& rows) {
  BLUETRACE_RETURN_IF_ERROR(
      conn.ExecScript("declare cursor", "DECLARE export_rows NO SCROLL CURSOR FOR " + query));
  const std::string fetch = "FETCH FORWARD " + std::to_string(batch) + " FROM export_rows";
  BLUETRACE_RETURN_IF_ERROR(fs.ReplaceFileFromSource(
      path,
      [&](std::string& out) -> Result<bool> {
        out.clear();
        BLUETRACE_ASSIGN_OR_RETURN(auto res, conn.Exec("fetch for " + path, fetch));
        if (res.rows() == 0) return false;
        for (int i = 0; i < res.rows(); ++i) {
          BLUETRACE_ASSIGN_OR_RETURN(auto text, line(res, i));
          out += text;
          out += '\n';
        }
        rows += static_cast<std::uint64_t>(res.rows());
        return true;
      },
      StateDir::kFileMode));
  return conn.ExecScript("close cursor", "CLOSE export_rows");
}

Result<std::int64_t> IntAt(const PgResult& res, int row, int col) { return res.GetInt(row, col); }

Status ExportUsers(PgConnection& conn, FileSystem& fs, const StateDir& dir, TransferStats& stats) {
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn.Exec("read users",
                          "SELECT phone, secret FROM users ORDER BY created, phone COLLATE \"C\""));
  std::string text;
  for (int i = 0; i < res.rows(); ++i) {
    text += protocol::FormatCredentialsLine(res.Get(i, 0), res.Get(i, 1));
    text += '\n';
  }
  stats.users = static_cast<std::uint64_t>(res.rows());
  const Status st = fs.ReplaceFileAtomically(dir.credentials(), text, StateDir::kFileMode);
  util::WipeString(text);
  return st;
}

// `always`: write the file even when it has no lines (lockouts.txt, as before); otherwise a
// table without rows writes no file.
Status ExportLockouts(PgConnection& conn, FileSystem& fs, const LockoutFile& file, bool always,
                      std::uint64_t& exported) {
  // Names that are no account live only in memory in the file backend.
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn.Exec(std::string("read ") + file.table,
                          std::string("SELECT key, failures, blocked_until FROM ") + file.table +
                              " WHERE known AND (failures > 0 OR blocked_until > 0) "
                              "ORDER BY key COLLATE \"C\""));
  if (res.rows() == 0 && !always) return Status::Ok();
  std::string text;
  for (int i = 0; i < res.rows(); ++i) {
    BLUETRACE_ASSIGN_OR_RETURN(const std::int64_t failures, IntAt(res, i, 1));
    BLUETRACE_ASSIGN_OR_RETURN(const std::int64_t blocked_until, IntAt(res, i, 2));
    text += FormatLockoutLine(
        {std::string(res.Get(i, 0)), static_cast<std::uint32_t>(failures), blocked_until});
    text += '\n';
  }
  exported = static_cast<std::uint64_t>(res.rows());
  return fs.ReplaceFileAtomically(file.path, text, StateDir::kFileMode);
}

// The files of the console and of upload codes are written only when their table has rows
// (a state directory without them is what the file backend starts from).
Status ExportStaff(PgConnection& conn, FileSystem& fs, const StateDir& dir, TransferStats& stats) {
  BLUETRACE_ASSIGN_OR_RETURN(auto res, conn.Exec("read staff",
                                                 "SELECT name, role, password_hash, failures, "
                                                 "blocked_until FROM console_staff"));
  if (res.rows() == 0) return Status::Ok();
  FileStaffStore::Entries entries;
  for (int i = 0; i < res.rows(); ++i) {
    FileStaffStore::Entry e;
    e.member.name = std::string(res.Get(i, 0));
    BLUETRACE_ASSIGN_OR_RETURN(e.member.role, ParseStaffRole(res.Get(i, 1)));
    e.member.password_hash = std::string(res.Get(i, 2));
    BLUETRACE_ASSIGN_OR_RETURN(const std::int64_t failures, IntAt(res, i, 3));
    e.failures = static_cast<std::uint32_t>(failures);
    BLUETRACE_ASSIGN_OR_RETURN(e.blocked_until, IntAt(res, i, 4));
    std::string name = e.member.name;
    entries.emplace(std::move(name), std::move(e));
  }
  stats.staff = entries.size();
  return fs.ReplaceFileAtomically(dir.staff(), FormatStaffFile(entries), StateDir::kFileMode);
}

Status ExportContactStatuses(PgConnection& conn, FileSystem& fs, const StateDir& dir,
                             TransferStats& stats) {
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn.Exec("read contact statuses",
                          "SELECT phone, status, note, updated_by, updated_at FROM contact_status "
                          "ORDER BY phone COLLATE \"C\""));
  if (res.rows() == 0) return Status::Ok();
  std::string text;
  for (int i = 0; i < res.rows(); ++i) {
    ContactStatusRecord r;
    r.phone = std::string(res.Get(i, 0));
    BLUETRACE_ASSIGN_OR_RETURN(r.status, ParseContactStatus(res.Get(i, 1)));
    r.note = std::string(res.Get(i, 2));
    r.updated_by = std::string(res.Get(i, 3));
    BLUETRACE_ASSIGN_OR_RETURN(r.updated_at, IntAt(res, i, 4));
    text += FormatContactStatusLine(r);
    text += '\n';
  }
  stats.contact_statuses = static_cast<std::uint64_t>(res.rows());
  return fs.ReplaceFileAtomically(dir.contact_status(), text, StateDir::kFileMode);
}

Status ExportUploadCodes(PgConnection& conn, FileSystem& fs, const StateDir& dir,
                         TransferStats& stats) {
  // Expired codes too: the file backend drops them at its next rewrite.
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn.Exec("read upload codes",
                          "SELECT phone, digest, issued_at, expires_at FROM upload_codes "
                          "ORDER BY phone COLLATE \"C\""));
  BLUETRACE_ASSIGN_OR_RETURN(auto days,
                             conn.Exec("read codes issued per day",
                                       "SELECT day, codes FROM upload_codes_issued ORDER BY day"));
  if (res.rows() == 0 && days.rows() == 0) return Status::Ok();
  std::string text;
  for (int i = 0; i < res.rows(); ++i) {
    UploadCodeRecord r;
    r.phone = std::string(res.Get(i, 0));
    r.digest = std::string(res.Get(i, 1));
    BLUETRACE_ASSIGN_OR_RETURN(r.issued_at, IntAt(res, i, 2));
    BLUETRACE_ASSIGN_OR_RETURN(r.expires_at, IntAt(res, i, 3));
    text += FormatUploadCodeLine(r);
    text += '\n';
  }
  for (int i = 0; i < days.rows(); ++i) {
    BLUETRACE_ASSIGN_OR_RETURN(const std::int64_t day, IntAt(days, i, 0));
    BLUETRACE_ASSIGN_OR_RETURN(const std::int64_t codes, IntAt(days, i, 1));
    text += FormatIssuedCountLine(day, static_cast<std::uint64_t>(codes));
    text += '\n';
  }
  stats.upload_codes = static_cast<std::uint64_t>(res.rows());
  stats.code_days = static_cast<std::uint64_t>(days.rows());
  if (res.rows() > 0) {
    stats.notes.push_back(std::to_string(res.rows()) +
                          " upload code(s) exported as digests: they redeem only with the "
                          "servers' upload code key (upload.code_key_file), which is not in the "
                          "database; copy it to " +
                          dir.Path(StateDir::kCodeKey));
  }
  return fs.ReplaceFileAtomically(dir.upload_codes(), text, StateDir::kFileMode);
}

Status ExportTempIds(PgConnection& conn, FileSystem& fs, const StateDir& dir,
                     const ExportOptions& options, TransferStats& stats) {
  return ExportRows(
      conn, fs, dir.tempids(),
      "SELECT phone, tempid, start, expiry FROM tempids ORDER BY start, expiry, tempid",
      options.batch_rows,
      [&](const PgResult& res, int i) -> Result<std::string> {
        protocol::TempIdRecord r;
        r.user = std::string(res.Get(i, 0));
        BLUETRACE_ASSIGN_OR_RETURN(r.id, protocol::TempId::Parse(res.Get(i, 1)));
        BLUETRACE_ASSIGN_OR_RETURN(r.start, IntAt(res, i, 2));
        BLUETRACE_ASSIGN_OR_RETURN(r.expiry, IntAt(res, i, 3));
        return protocol::FormatTempIdLine(r, options.time_mode);
      },
      stats.tempids);
}

Status ExportAudit(PgConnection& conn, FileSystem& fs, const StateDir& dir,
                   const ExportOptions& options, TransferStats& stats) {
  return ExportRows(
      conn, fs, dir.audit_log(),
      "SELECT seq, time, event, fields, encode(prev_hash, 'hex'), encode(hash, 'hex') "
      "FROM audit ORDER BY seq",
      options.batch_rows,
      [&](const PgResult& res, int i) -> Result<std::string> {
        BLUETRACE_ASSIGN_OR_RETURN(const std::int64_t seq, IntAt(res, i, 0));
        BLUETRACE_ASSIGN_OR_RETURN(const std::int64_t time, IntAt(res, i, 1));
        std::string text(res.Get(i, 2));
        if (!res.Get(i, 3).empty()) text += " " + std::string(res.Get(i, 3));
        return AuditLog::FormatRecordLine(static_cast<std::uint64_t>(seq), time, text,
                                          res.Get(i, 4), res.Get(i, 5));
      },
      stats.audit_records);
}

Status ExportReports(PgConnection& conn, FileSystem& fs, const StateDir& dir,
                     TransferStats& stats) {
  BLUETRACE_RETURN_IF_ERROR(fs.CreateDirs(dir.reports(), StateDir::kReportDirMode));
  // One report at a time: reports are small, their number is not.
  BLUETRACE_ASSIGN_OR_RETURN(
      auto names,
      conn.Exec("list reports", "SELECT name FROM reports ORDER BY name COLLATE \"C\""));
  for (int i = 0; i < names.rows(); ++i) {
    const std::string name(names.Get(i, 0));
    if (!IsReportName(name)) {
      return util::FailedPrecondition("the database holds a report named '" + name +
                                      "', which is no report file name");
    }
    BLUETRACE_ASSIGN_OR_RETURN(
        auto res,
        conn.Exec("read report " + name, "SELECT text FROM reports WHERE name = $1", {name}));
    BLUETRACE_RETURN_IF_ERROR(fs.ReplaceFileAtomically(JoinPath(dir.reports(), name), res.Get(0, 0),
                                                       StateDir::kReportMode));
    ++stats.reports;
  }
  return Status::Ok();
}

}  // namespace

Result<TransferStats> ImportStateDir(PgConnection& conn, FileSystem& fs,
                                     const std::string& state_dir, const ImportOptions& options) {
  BLUETRACE_RETURN_IF_ERROR(RequireStateDirectory(fs, state_dir));
  const StateDir dir(state_dir);
  TransferStats stats;
  BLUETRACE_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(conn, "BEGIN"));
  BLUETRACE_ASSIGN_OR_RETURN(const std::uint64_t staged, StageTempIds(conn, fs, dir, options));
  // Servers may read meanwhile, never write: a merge decides on what it sees.
  BLUETRACE_RETURN_IF_ERROR(
      conn.ExecScript("lock the tables",
                      "LOCK TABLE users, tempids, lockouts, reports, audit, devices, "
                      "console_staff, contact_status, upload_codes, upload_code_failures "
                      "IN EXCLUSIVE MODE"));
  BLUETRACE_RETURN_IF_ERROR(CheckEmpty(conn, options.merge));
  BLUETRACE_RETURN_IF_ERROR(ImportUsers(conn, fs, dir, options, stats));
  BLUETRACE_RETURN_IF_ERROR(
      ImportLockouts(conn, fs, {dir.lockouts(), "lockouts"}, stats.lockouts, stats));
  BLUETRACE_RETURN_IF_ERROR(InsertTempIds(conn, dir, staged, stats));
  BLUETRACE_RETURN_IF_ERROR(ImportReports(conn, fs, dir, stats));
  BLUETRACE_RETURN_IF_ERROR(ImportAudit(conn, fs, dir, stats));
  BLUETRACE_RETURN_IF_ERROR(ImportStaff(conn, fs, dir, stats));
  BLUETRACE_RETURN_IF_ERROR(ImportContactStatuses(conn, fs, dir, stats));
  BLUETRACE_RETURN_IF_ERROR(ImportUploadCodes(conn, fs, dir, stats));
  BLUETRACE_RETURN_IF_ERROR(ImportLockouts(conn, fs, {dir.code_failures(), "upload_code_failures"},
                                           stats.code_failures, stats));
  BLUETRACE_ASSIGN_OR_RETURN(const bool devices, fs.Exists(dir.devices()));
  if (devices) {
    stats.notes.push_back(dir.devices() +
                          " was not imported: device tokens are issued again when their "
                          "holders log in with their password");
  }
  BLUETRACE_RETURN_IF_ERROR(txn->Commit());
  return stats;
}

Result<TransferStats> ExportStateDir(PgConnection& conn, FileSystem& fs, const std::string& out_dir,
                                     const ExportOptions& options) {
  if (options.batch_rows < 1) return util::InvalidArgument("export batch_rows must be >= 1");
  BLUETRACE_RETURN_IF_ERROR(fs.CreateDirs(out_dir, 0700));
  BLUETRACE_ASSIGN_OR_RETURN(auto entries, fs.ListDir(out_dir));
  if (!entries.empty()) {
    return util::FailedPrecondition(out_dir + " is not empty; export into a new directory");
  }
  const StateDir dir(out_dir);
  TransferStats stats;
  // One snapshot for every table.
  BLUETRACE_ASSIGN_OR_RETURN(
      auto txn, Transaction::Begin(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  BLUETRACE_RETURN_IF_ERROR(ExportUsers(conn, fs, dir, stats));
  BLUETRACE_RETURN_IF_ERROR(ExportTempIds(conn, fs, dir, options, stats));
  BLUETRACE_RETURN_IF_ERROR(
      ExportLockouts(conn, fs, {dir.lockouts(), "lockouts"}, /*always=*/true, stats.lockouts));
  BLUETRACE_RETURN_IF_ERROR(ExportReports(conn, fs, dir, stats));
  BLUETRACE_RETURN_IF_ERROR(ExportAudit(conn, fs, dir, options, stats));
  BLUETRACE_RETURN_IF_ERROR(ExportStaff(conn, fs, dir, stats));
  BLUETRACE_RETURN_IF_ERROR(ExportContactStatuses(conn, fs, dir, stats));
  BLUETRACE_RETURN_IF_ERROR(ExportUploadCodes(conn, fs, dir, stats));
  BLUETRACE_RETURN_IF_ERROR(ExportLockouts(conn, fs, {dir.code_failures(), "upload_code_failures"},
                                           /*always=*/false, stats.code_failures));
  BLUETRACE_ASSIGN_OR_RETURN(
      auto sessions, conn.Exec("count console sessions", "SELECT count(*) FROM console_sessions"));
  if (sessions.Get(0, 0) != "0") {
    stats.notes.push_back(std::string(sessions.Get(0, 0)) +
                          " console session(s) were not exported: sessions are transient (the "
                          "file backend keeps them in memory); staff log in again");
  }
  BLUETRACE_ASSIGN_OR_RETURN(auto devices,
                             conn.Exec("count devices", "SELECT count(*) FROM devices"));
  if (devices.Get(0, 0) != "0") {
    stats.notes.push_back(std::string(devices.Get(0, 0)) +
                          " device token(s) were not exported: the database keeps only their "
                          "digests; their holders log in with their password again");
  }
  BLUETRACE_RETURN_IF_ERROR(txn->Commit());
  return stats;
}

}  // namespace bluetrace::store
