#include "bluetrace/protocol/phone.hpp"

#include <string>

#include "text_detail.hpp"

namespace bluetrace::protocol {
namespace {

bool IsSeparator(char c) { return c == '-' || c == ' '; }

util::Status PhoneError(const std::string& what) {
  return util::InvalidArgument("phone number " + what);
}

}  // namespace

util::Result<std::string> CanonicalPhone(std::string_view text) {
  if (text.empty()) return PhoneError("is empty");
  if (text[0] != '+') return PhoneError("must start with '+' and the country code");
  // Already canonical (every line of tempIDs.txt and credentials.txt): no byte-by-byte build.
  if (IsCanonicalPhone(text)) return std::string(text);
  std::string canonical = "+";
  char separator = 0;  // the kind this number uses, once seen
  for (std::size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    if (detail::IsDigit(c)) {
      // Stop early, so an enormous input never builds an enormous string.
      if (canonical.size() > kMaxPhoneDigits) {
        return PhoneError("has more than " + std::to_string(kMaxPhoneDigits) + " digits");
      }
      canonical += c;
      continue;
    }
    if (!IsSeparator(c)) {
      return PhoneError("contains " + detail::DescribeByte(c) + " at byte " +
                        std::to_string(i + 1) + "; only digits, '-' and ' ' may follow '+'");
    }
    if (i == 1) return PhoneError("has a separator right after '+'");
    if (IsSeparator(text[i - 1])) return PhoneError("has two separators in a row");
    if (separator != 0 && separator != c) return PhoneError("mixes '-' and ' ' separators");
    separator = c;
  }
  if (IsSeparator(text.back())) return PhoneError("ends with a separator");
  const std::size_t digits = canonical.size() - 1;
  if (digits < kMinPhoneDigits || digits > kMaxPhoneDigits) {
    return PhoneError("has " + std::to_string(digits) + " digits, needs " +
                      std::to_string(kMinPhoneDigits) + " to " + std::to_string(kMaxPhoneDigits));
  }
  if (canonical[1] == '0')
    return PhoneError("cannot start with 0 after '+' (no country code does)");
  return canonical;
}

namespace detail {

util::Result<std::string> ParseUserIdField(std::string_view line) {
  const std::size_t space = line.find(' ');
  auto user = CanonicalPhone(line.substr(0, space));
  if (user.ok()) return user;
  // Each try stops within a few bytes (at a bad byte or the 16th digit), and a spaced number
  // has at most kMaxPhoneDigits groups, so this stays cheap on any line.
  std::size_t end = space;
  for (std::size_t groups = 1; end != std::string_view::npos && groups < kMaxPhoneDigits;
       ++groups) {
    end = line.find(' ', end + 1);
    if (CanonicalPhone(line.substr(0, end)).ok()) {
      return util::InvalidArgument(
          "UserID: a space ends the UserID here; write the number without spaces, e.g. "
          "+61410888888 or +61-410-888-888");
    }
  }
  return user.status().WithContext("UserID");
}

}  // namespace detail

bool IsCanonicalPhone(std::string_view text) {
  if (text.size() < 1 + kMinPhoneDigits || text.size() > 1 + kMaxPhoneDigits) return false;
  if (text[0] != '+' || text[1] == '0') return false;
  for (std::size_t i = 1; i < text.size(); ++i) {
    if (!detail::IsDigit(text[i])) return false;
  }
  return true;
}

std::string RedactPhoneNumbers(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '+' || i + 1 >= text.size() || !detail::IsDigit(text[i + 1])) {
      out += text[i++];
      continue;
    }
    // The number runs over digits and single separators between digits.
    std::size_t end = i + 1;
    while (end < text.size()) {
      if (detail::IsDigit(text[end])) {
        ++end;
      } else if (IsSeparator(text[end]) && end + 1 < text.size() &&
                 detail::IsDigit(text[end + 1])) {
        end += 2;
      } else {
        break;
      }
    }
    out += "+<phone>";
    i = end;
  }
  return out;
}

}  // namespace bluetrace::protocol
