// The record formats of the original's text files (docs/ORIGINAL.md §2), each with a strict
// parser and a writer. Single spaces separate fields; nothing else is tolerated inside a
// line. Parsers take one line without its line end (see text_lines.hpp for files) and
// return kInvalidArgument with a message naming the field and the problem; writers return
// the line without a line end. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/protocol/tempid.hpp"
#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/util/secret.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::protocol {

// --- credentials.txt: "<UserID> <password>" or "<UserID> $argon2id$v=19$m=..,t=..,p=..$salt$hash"

struct CredentialsEntry {
  std::string user;           // canonical phone number
  util::SecretString secret;  // the plaintext password or the Argon2id encoded hash
  bool hashed = false;        // true when `secret` is an "$argon2id$" encoding
  friend bool operator==(const CredentialsEntry&, const CredentialsEntry&) = default;
};

// The UserID may be in any accepted phone form without spaces (it is canonicalised). The
// password is everything after the single separating space: non-empty, printable ASCII
// (0x21-0x7e plus inner spaces), no leading or trailing space. A secret starting with
// "$argon2" must be an Argon2id encoding that login accepts: ParseArgon2Encoding
// (argon2_encoding.hpp), the verifier's own parser, with its cost, salt and hash bounds.
// So no plaintext password can start with "$argon2". Error messages never quote the secret.
util::Result<CredentialsEntry> ParseCredentialsLine(std::string_view line);
std::string FormatCredentialsLine(std::string_view user, std::string_view secret);

// Parses a whole credentials.txt; errors name `file_name` and the line. Duplicate users
// (after canonicalisation) are an error naming both lines.
util::Result<std::vector<CredentialsEntry>> ParseCredentialsFile(std::string_view content,
                                                                 std::string_view file_name);

// --- tempIDs.txt: "<UserID> <TempID> <start> <expiry>"

struct TempIdRecord {
  std::string user;  // canonical phone number
  TempId id;
  std::int64_t start = 0;   // seconds since the epoch
  std::int64_t expiry = 0;  // >= start
  friend bool operator==(const TempIdRecord&, const TempIdRecord&) = default;
};

// The UserID may be in any accepted phone form without spaces (it is canonicalised); an
// expiry before the start, a tab, or a doubled, leading or trailing space is an error.
util::Result<TempIdRecord> ParseTempIdLine(std::string_view line,
                                           TimeZoneMode mode = TimeZoneMode::kUtc);
std::string FormatTempIdLine(const TempIdRecord& record, TimeZoneMode mode = TimeZoneMode::kUtc);

// --- contact log (contactlog.txt): "<TempID> <start> <expiry>"

struct ContactLogEntry {
  TempId id;
  std::int64_t start = 0;
  std::int64_t expiry = 0;  // >= start
  friend bool operator==(const ContactLogEntry&, const ContactLogEntry&) = default;
};

// Same rules as ParseTempIdLine, without the UserID.
util::Result<ContactLogEntry> ParseContactLogLine(std::string_view line,
                                                  TimeZoneMode mode = TimeZoneMode::kUtc);
std::string FormatContactLogLine(const ContactLogEntry& entry,
                                 TimeZoneMode mode = TimeZoneMode::kUtc);

// Parses a whole contact log; more than `max_entries` entries is kResourceExhausted.
util::Result<std::vector<ContactLogEntry>> ParseContactLog(std::string_view content,
                                                           std::string_view file_name,
                                                           TimeZoneMode mode,
                                                           std::size_t max_entries);

}  // namespace bluetrace::protocol
