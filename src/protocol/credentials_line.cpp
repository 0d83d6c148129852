// credentials.txt lines: "<UserID> <password>" or "<UserID> <Argon2id encoding>".
// No message here ever quotes the password or the hash.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>

#include "bluetrace/protocol/argon2_encoding.hpp"
#include "bluetrace/protocol/text_lines.hpp"
#include "bluetrace/protocol/text_records.hpp"
#include "text_detail.hpp"

namespace bluetrace::protocol {
namespace {

constexpr std::string_view kArgon2Family = "$argon2";

util::Status CheckPassword(std::string_view password) {
  if (password.empty()) return util::InvalidArgument("password is empty");
  if (password.front() == ' ') {
    return util::InvalidArgument("password starts with a space (one space separates the fields)");
  }
  if (password.back() == ' ') return util::InvalidArgument("password ends with a space");
  for (std::size_t i = 0; i < password.size(); ++i) {
    const auto c = static_cast<unsigned char>(password[i]);
    if (c < 0x20 || c > 0x7e) {
      return util::InvalidArgument("password byte " + std::to_string(i + 1) +
                                   " is not printable ASCII");
    }
  }
  return util::Status::Ok();
}

}  // namespace

util::Result<CredentialsEntry> ParseCredentialsLine(std::string_view line) {
  const std::size_t space = line.find(' ');
  if (space == 0) return util::InvalidArgument("line starts with a space");
  if (space == std::string_view::npos) {
    if (line.find('\t') != std::string_view::npos) {
      return util::InvalidArgument("fields are separated by a tab; use a single space");
    }
    return util::InvalidArgument("missing password; expected \"<UserID> <password>\"");
  }
  CredentialsEntry entry;
  BLUETRACE_ASSIGN_OR_RETURN(entry.user, detail::ParseUserIdField(line));
  const std::string_view secret = line.substr(space + 1);
  BLUETRACE_RETURN_IF_ERROR(CheckPassword(secret));
  if (secret.substr(0, kArgon2Family.size()) == kArgon2Family) {
    // The verifier's own parser: what loads here, login can check (argon2_encoding.hpp).
    BLUETRACE_RETURN_IF_ERROR(ParseArgon2Encoding(secret).status());
    entry.hashed = true;
  }
  entry.secret = util::SecretString(secret);
  return entry;
}

std::string FormatCredentialsLine(std::string_view user, std::string_view secret) {
  std::string line;
  line.reserve(user.size() + 1 + secret.size());
  line.append(user);
  line += ' ';
  line.append(secret);
  return line;
}

util::Result<std::vector<CredentialsEntry>> ParseCredentialsFile(std::string_view content,
                                                                 std::string_view file_name) {
  std::vector<CredentialsEntry> entries;
  std::unordered_map<std::string, std::uint64_t> line_of_user;
  const util::Status st = ForEachLine(content, file_name, [&](const TextLine& line) {
    BLUETRACE_ASSIGN_OR_RETURN(CredentialsEntry entry, ParseCredentialsLine(line.text));
    const auto [it, inserted] = line_of_user.emplace(entry.user, line.number);
    if (!inserted) {
      return util::InvalidArgument("user " + entry.user + " is already defined on line " +
                                   std::to_string(it->second));
    }
    entries.push_back(std::move(entry));
    return util::Status::Ok();
  });
  if (!st.ok()) return st;
  return entries;
}

}  // namespace bluetrace::protocol
