// Moving a server's state between the file backend's state directory (store/files/
// state_dir.hpp: credentials.txt, tempIDs.txt, lockouts.txt, reports/, audit.log, and the
// health authority's staff.txt, contact_status.txt, upload-codes.txt and
// upload-code-failures.txt) and the PostgreSQL backend's tables (packaging/sql/), in the
// files' own formats, read and written by their one parser and formatter each
// (protocol/text_records.hpp, store/files/).
//
// Import is one transaction: all or nothing. A bad line stops it with the file and the line
// named, and nothing is committed. tempIDs.txt is streamed into the database with COPY
// (bounded memory for millions of lines) into a staging table, first of all, so that its
// partitions are created before the tables are locked; then the tables are locked against
// writers, checked, and filled. Export reads one snapshot and writes every file
// as a temporary file, fsynced and renamed, streaming the TempIDs and the audit chain.
//
// What does not travel: devices.txt (device tokens are not imported: their holders log in
// with their password again, which issues new ones); console sessions (transient: the file
// backend keeps them in memory, so staff log in again); the upload code key (a file of
// each server's, upload.code_key_file: the codes' digests redeem only with it, and the
// notes say so). Staff accounts travel with their hashes and login failures as stored,
// contact statuses with their notes, upload codes as digests with their times (expired
// ones too), wrong-code counts as lockouts.txt's are. An imported plaintext password is
// hashed, so credentials.txt comes back with its Argon2id hash. Export writes LF line ends,
// users in the order they were imported (then added), TempIDs by (start, expiry, TempID),
// lockouts by user in byte order, and only known users' lockouts (as the file backend
// keeps them); staff.txt, contact_status.txt, upload-codes.txt and
// upload-code-failures.txt only when their table has rows, in byte order of name or phone.
// A directory the file backend wrote comes back byte for byte when its TempIDs were issued
// one per second at most and it has no plaintext passwords, no duplicate TempIDs and no
// devices (tests/store/pg_transfer_test.cpp).
//
// Both functions use the connection from the calling thread only; they take no file locks:
// run them while no server uses the state directory or the database. Import runs as the
// role that owns the schema (as migrations do): it creates the day partitions of
// `tempids` the records need (bluetrace_ensure_tempid_partition, packaging/sql/002).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/password_hash.hpp"
#include "bluetrace/store/postgres/pg_connection.hpp"
#include "bluetrace/util/random.hpp"

namespace bluetrace::store {

struct ImportOptions {
  // Into a database that already holds state: false refuses (kFailedPrecondition). true
  // merges, and then what the database holds wins: a user, a lockout entry or a TempID
  // record it has already is kept and the file's line skipped (counted in `skipped`). A
  // TempID or a report name the database holds with other contents is an error naming the
  // line or the report (one of them would be lost); an audit chain cannot be joined to
  // another, so a file with records is refused when the database has any.
  bool merge = false;
  // The cost of the hashes made for plaintext passwords (the server's [auth] settings).
  Argon2Params argon2;
  // The salts of those hashes; nullptr: util::OpenSslRandom::Instance().
  util::Random* random = nullptr;
  // How tempIDs.txt's timestamps read (the server's setting, docs/ORIGINAL.md §6.11).
  protocol::TimeZoneMode time_mode = protocol::TimeZoneMode::kUtc;
};

struct ExportOptions {
  protocol::TimeZoneMode time_mode = protocol::TimeZoneMode::kUtc;
  // TempIDs and audit records fetched per round trip (bounds the memory of an export).
  int batch_rows = 10000;
};

struct TransferStats {
  std::uint64_t users = 0;
  std::uint64_t hashed_passwords = 0;  // plaintext lines hashed on import
  std::uint64_t tempids = 0;
  std::uint64_t lockouts = 0;
  std::uint64_t reports = 0;
  std::uint64_t audit_records = 0;
  std::uint64_t staff = 0;             // console staff accounts
  std::uint64_t contact_statuses = 0;  // tracers' statuses and notes
  std::uint64_t upload_codes = 0;      // codes (digests), expired ones included
  std::uint64_t code_days = 0;         // days with a count of codes issued (activity chart)
  std::uint64_t code_failures = 0;     // users with wrong upload codes counted
  std::uint64_t skipped = 0;           // lines a merge left out because the database had them
  std::vector<std::string> notes;      // what the operator should know (files not moved, ...)
};

// Imports the state directory `state_dir` into the database (migrated to the current
// schema). Errors: kFailedPrecondition for a database that already holds state without
// `merge`, or an audit chain a merge cannot join; kInvalidArgument naming the file and
// the line for a malformed line, a duplicate TempID, an audit chain that does not verify
// (the verifier of store/files/audit_log.hpp) or a conflict described above; kNotFound when
// `state_dir` does not exist; read errors of `fs`; the database's errors. On any error
// nothing is committed.
Result<TransferStats> ImportStateDir(PgConnection& conn, FileSystem& fs,
                                     const std::string& state_dir, const ImportOptions& options);

// Writes the database's state as a state directory `out_dir` (created when missing, mode
// 0700; it must be empty). Errors: kFailedPrecondition when `out_dir` is not empty; write
// errors of `fs` (the files written before stay, each whole); the database's errors.
Result<TransferStats> ExportStateDir(PgConnection& conn, FileSystem& fs, const std::string& out_dir,
                                     const ExportOptions& options);

}  // namespace bluetrace::store
