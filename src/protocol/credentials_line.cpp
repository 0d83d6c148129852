// credentials.txt lines: "<UserID> <password>" or "<UserID> <Argon2id encoding>".
// No message here ever quotes the password or the hash.
#include <charconv>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>

#include "bluetrace/protocol/text_lines.hpp"
#include "bluetrace/protocol/text_records.hpp"
#include "text_detail.hpp"

namespace bluetrace::protocol {
namespace {

constexpr std::string_view kArgon2Family = "$argon2";
constexpr std::string_view kArgon2idPrefix = "$argon2id$v=19$";
// libargon2's own lower limits (argon2.h): shorter salts or outputs are refused there too.
constexpr std::size_t kMinSaltBytes = 8;
constexpr std::size_t kMinHashBytes = 4;
constexpr std::uint32_t kMaxLanes = 0xFFFFFF;

util::Status HashError(const std::string& why) {
  return util::InvalidArgument("password hash is not a valid Argon2id encoding: " + why);
}

// Reads "<key>=<decimal>" from the front of `s`: digits only, no leading zero, fits 32 bits.
bool ConsumeParam(std::string_view& s, std::string_view key, std::uint32_t& out) {
  if (s.substr(0, key.size()) != key) return false;
  s.remove_prefix(key.size());
  std::size_t len = 0;
  while (len < s.size() && detail::IsDigit(s[len])) ++len;
  if (len == 0 || (len > 1 && s[0] == '0')) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + len, out);
  if (ec != std::errc() || end != s.data() + len) return false;
  s.remove_prefix(len);
  return true;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Checks unpadded standard base64 as libargon2 writes and reads it: no '=', a length that is
// not 1 mod 4, and zero bits in the unused tail of the last character (so every byte string
// has exactly one accepted spelling). Returns the decoded length, or an error naming `field`.
util::Result<std::size_t> CheckBase64(std::string_view text, const char* field) {
  if (text.empty()) return HashError(std::string(field) + " is empty");
  for (const char c : text) {
    if (Base64Value(c) < 0) {
      return HashError(std::string(field) + " contains " + detail::DescribeByte(c) +
                       ", which is not unpadded base64");
    }
  }
  const std::size_t tail = text.size() % 4;
  if (tail == 1) return HashError(std::string(field) + " has an impossible base64 length");
  // 2 trailing characters carry 1 byte (4 spare bits), 3 carry 2 bytes (2 spare bits).
  const int spare_mask = tail == 2 ? 0x0f : tail == 3 ? 0x03 : 0;
  if ((Base64Value(text.back()) & spare_mask) != 0) {
    return HashError(std::string(field) + " has non-zero padding bits");
  }
  return text.size() / 4 * 3 + (tail == 0 ? 0 : tail - 1);
}

util::Status CheckArgon2id(std::string_view secret) {
  if (secret.substr(0, kArgon2idPrefix.size()) != kArgon2idPrefix) {
    if (secret.substr(0, 10) != "$argon2id$") {
      return HashError("only Argon2id (\"$argon2id$\") is accepted");
    }
    return HashError("expected version \"v=19\" after \"$argon2id$\"");
  }
  std::string_view rest = secret.substr(kArgon2idPrefix.size());
  std::uint32_t m = 0, t = 0, p = 0;
  if (!ConsumeParam(rest, "m=", m) || !ConsumeParam(rest, ",t=", t) ||
      !ConsumeParam(rest, ",p=", p)) {
    return HashError("expected \"m=<KiB>,t=<passes>,p=<lanes>\" in decimal");
  }
  if (p < 1 || p > kMaxLanes) return HashError("p must be 1-" + std::to_string(kMaxLanes));
  if (t < 1) return HashError("t must be at least 1");
  if (m < 8 * static_cast<std::uint64_t>(p)) return HashError("m must be at least 8 KiB per lane");
  if (rest.empty() || rest[0] != '$') return HashError("expected '$' before the salt");
  rest.remove_prefix(1);
  const std::size_t dollar = rest.find('$');
  if (dollar == std::string_view::npos) return HashError("expected '$' between salt and hash");
  auto salt = CheckBase64(rest.substr(0, dollar), "salt");
  if (!salt.ok()) return salt.status();
  if (*salt < kMinSaltBytes) return HashError("salt is shorter than 8 bytes");
  auto hash = CheckBase64(rest.substr(dollar + 1), "hash");
  if (!hash.ok()) return hash.status();
  if (*hash < kMinHashBytes) return HashError("hash is shorter than 4 bytes");
  return util::Status::Ok();
}

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
  auto user = detail::ParseUserIdField(line);
  if (!user.ok()) return user.status();
  const std::string_view secret = line.substr(space + 1);
  BLUETRACE_RETURN_IF_ERROR(CheckPassword(secret));
  CredentialsEntry entry;
  if (secret.substr(0, kArgon2Family.size()) == kArgon2Family) {
    BLUETRACE_RETURN_IF_ERROR(CheckArgon2id(secret));
    entry.hashed = true;
  }
  entry.user = std::move(*user);
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
    auto entry = ParseCredentialsLine(line.text);
    if (!entry.ok()) return entry.status();
    const auto [it, inserted] = line_of_user.emplace(entry->user, line.number);
    if (!inserted) {
      return util::InvalidArgument("user " + entry->user + " is already defined on line " +
                                   std::to_string(it->second));
    }
    entries.push_back(std::move(*entry));
    return util::Status::Ok();
  });
  if (!st.ok()) return st;
  return entries;
}

}  // namespace bluetrace::protocol
