// UserIDs are international mobile numbers (docs/ORIGINAL.md §6.8). Accepted forms:
// "+61410888888", "+61-410-888-888", "+61 410 888 888": a leading '+', then groups of
// digits separated by a single '-' or a single ' '. One number uses one kind of separator
// ("+61-410 888 888" is rejected: mixed forms are more likely typos than intent); no
// separator may follow '+' directly, end the number or double up. The canonical form is
// '+' followed by the digits only. E.164 limits: the first digit is not 0, 8 to 15 digits
// in all. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "bluetrace/util/status.hpp"

namespace bluetrace::protocol {

inline constexpr std::size_t kMinPhoneDigits = 8;
inline constexpr std::size_t kMaxPhoneDigits = 15;

// The canonical form of `text`, or kInvalidArgument naming the problem.
util::Result<std::string> CanonicalPhone(std::string_view text);

// True when `text` is already canonical ("+" then 8-15 digits, first not 0).
bool IsCanonicalPhone(std::string_view text);

// `text` with every number in it ('+' then a digit, then digits and single separators)
// replaced by "+<phone>": for a status message logged beside an address, where a store's
// message ("no user +61410888888") must not put the number (docs/SECURITY.md, "Logs").
std::string RedactPhoneNumbers(std::string_view text);

}  // namespace bluetrace::protocol
