#include "bluetrace/store/contact_status_store.hpp"

#include <string>

#include "bluetrace/protocol/phone.hpp"

namespace bluetrace::store {
namespace {

constexpr std::string_view kNames[] = {"to_call", "reached", "unreachable", "not_needed"};
constexpr std::string_view kLabels[] = {"to call", "reached", "unreachable", "not needed"};

// Well-formed UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF).
bool IsUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3Fu);
    }
    const std::uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace

std::string_view ContactStatusName(ContactStatus status) {
  return kNames[static_cast<std::size_t>(status)];
}

std::string_view ContactStatusLabel(ContactStatus status) {
  return kLabels[static_cast<std::size_t>(status)];
}

util::Result<ContactStatus> ParseContactStatus(std::string_view name) {
  for (ContactStatus s : kAllContactStatuses) {
    if (ContactStatusName(s) == name) return s;
  }
  return util::InvalidArgument("not a contact status: \"" + std::string(name) + "\"");
}

util::Status ValidateContactStatusRecord(const ContactStatusRecord& r) {
  if (!protocol::IsCanonicalPhone(r.phone)) {
    return util::InvalidArgument("contact status: not a canonical phone number");
  }
  if (r.note.size() > kMaxContactNoteBytes) {
    return util::InvalidArgument("contact status: the note is longer than " +
                                 std::to_string(kMaxContactNoteBytes) + " bytes");
  }
  if (!IsUtf8(r.note)) return util::InvalidArgument("contact status: the note is not UTF-8");
  if (r.updated_by.empty()) return util::InvalidArgument("contact status: no staff name");
  return util::Status::Ok();
}

}  // namespace bluetrace::store
