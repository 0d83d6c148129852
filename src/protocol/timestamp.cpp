#include "bluetrace/protocol/timestamp.hpp"

#include <ctime>
#include <string>

namespace bluetrace::protocol {
namespace {

constexpr std::int64_t kSecondsPerDay = 86'400;

struct CivilTime {
  int year = 0;
  int month = 0;  // 1-12
  int day = 0;    // 1-31
  int hour = 0;
  int minute = 0;
  int second = 0;
};

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date. Counting years from March puts the
// leap day at the end of the year, so each 400-year era has a fixed shape.
std::int64_t DaysFromCivil(int year, int month, int day) {
  const std::int64_t y = year - (month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t year_of_era = y - era * 400;                               // 0-399
  const std::int64_t month_from_march = (month + 9) % 12;                       // March = 0
  const std::int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;  // 0-365
  const std::int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;  // 0-146096
  return era * 146'097 + day_of_era - 719'468;  // 719468 = days from 0000-03-01 to 1970
}

// The inverse of DaysFromCivil.
void CivilFromDays(std::int64_t days, CivilTime& out) {
  days += 719'468;
  const std::int64_t era = (days >= 0 ? days : days - 146'096) / 146'097;
  const std::int64_t day_of_era = days - era * 146'097;
  const std::int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
  const std::int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const std::int64_t month_from_march = (5 * day_of_year + 2) / 153;
  out.day = static_cast<int>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  out.month = static_cast<int>(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  out.year = static_cast<int>(year_of_era + era * 400 + (out.month <= 2 ? 1 : 0));
}

// The smallest and largest instants FormatTimestamp(kUtc) can write.
constexpr std::int64_t kMinUtcSeconds = 0;  // 01/01/1970 00:00:00
const std::int64_t kMaxUtcSeconds = (DaysFromCivil(kMaxYear, 12, 31) + 1) * kSecondsPerDay - 1;

// Reads `count` digits at `pos`; false if any byte there is not a digit.
bool ReadDigits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  int v = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + (text[i] - '0');
  }
  out = v;
  return true;
}

std::string TwoDigits(int v) {
  return {static_cast<char>('0' + v / 10), static_cast<char>('0' + v % 10)};
}

// Checks layout, digits and ranges of "DD/MM/YYYY HH:MM:SS".
util::Status ParseCivil(std::string_view text, CivilTime& t) {
  if (text.size() != kTimestampSize) {
    return util::InvalidArgument("timestamp must be 19 bytes \"DD/MM/YYYY HH:MM:SS\", got " +
                                 std::to_string(text.size()));
  }
  struct Separator {
    std::size_t pos;
    char c;
    const char* where;
  };
  static constexpr Separator kSeparators[] = {{2, '/', "between day and month"},
                                              {5, '/', "between month and year"},
                                              {10, ' ', "between date and time"},
                                              {13, ':', "between hour and minute"},
                                              {16, ':', "between minute and second"}};
  for (const Separator& s : kSeparators) {
    if (text[s.pos] != s.c) {
      return util::InvalidArgument("timestamp needs '" + std::string(1, s.c) + "' " + s.where +
                                   " (byte " + std::to_string(s.pos + 1) + ")");
    }
  }
  struct Field {
    std::size_t pos;
    std::size_t len;
    int* out;
    const char* name;
  };
  const Field fields[] = {{0, 2, &t.day, "day"},        {3, 2, &t.month, "month"},
                          {6, 4, &t.year, "year"},      {11, 2, &t.hour, "hour"},
                          {14, 2, &t.minute, "minute"}, {17, 2, &t.second, "second"}};
  for (const Field& f : fields) {
    if (!ReadDigits(text, f.pos, f.len, *f.out)) {
      return util::InvalidArgument(std::string("timestamp ") + f.name + " must be " +
                                   std::to_string(f.len) + " digits");
    }
  }
  if (t.year < kMinYear || t.year > kMaxYear) {
    return util::InvalidArgument("timestamp year " + std::to_string(t.year) + " is outside " +
                                 std::to_string(kMinYear) + "-" + std::to_string(kMaxYear));
  }
  if (t.month < 1 || t.month > 12) {
    return util::InvalidArgument("timestamp month " + TwoDigits(t.month) + " is not 01-12");
  }
  if (t.day < 1 || t.day > DaysInMonth(t.year, t.month)) {
    return util::InvalidArgument("day " + TwoDigits(t.day) + " does not exist in month " +
                                 TwoDigits(t.month) + " of " + std::to_string(t.year));
  }
  if (t.hour > 23) {
    return util::InvalidArgument("timestamp hour " + TwoDigits(t.hour) + " is not 00-23");
  }
  if (t.minute > 59) {
    return util::InvalidArgument("timestamp minute " + TwoDigits(t.minute) + " is not 00-59");
  }
  if (t.second > 59) {
    return util::InvalidArgument("timestamp second " + TwoDigits(t.second) + " is not 00-59");
  }
  return util::Status::Ok();
}

std::string FormatCivil(const CivilTime& t) {
  std::string s;
  s.reserve(kTimestampSize);
  s += TwoDigits(t.day);
  s += '/';
  s += TwoDigits(t.month);
  s += '/';
  s += TwoDigits(t.year / 100);
  s += TwoDigits(t.year % 100);
  s += ' ';
  s += TwoDigits(t.hour);
  s += ':';
  s += TwoDigits(t.minute);
  s += ':';
  s += TwoDigits(t.second);
  return s;
}

std::string FormatUtc(std::int64_t unix_seconds) {
  if (unix_seconds < kMinUtcSeconds) unix_seconds = kMinUtcSeconds;
  if (unix_seconds > kMaxUtcSeconds) unix_seconds = kMaxUtcSeconds;
  CivilTime t;
  CivilFromDays(unix_seconds / kSecondsPerDay, t);
  const std::int64_t in_day = unix_seconds % kSecondsPerDay;
  t.hour = static_cast<int>(in_day / 3600);
  t.minute = static_cast<int>(in_day / 60 % 60);
  t.second = static_cast<int>(in_day % 60);
  return FormatCivil(t);
}

std::string FormatLocal(std::int64_t unix_seconds) {
  // Local offsets stay within a day, so a day's margin keeps localtime_r in range while
  // leaving the year check below to do the exact clamping.
  if (unix_seconds < kMinUtcSeconds - kSecondsPerDay)
    unix_seconds = kMinUtcSeconds - kSecondsPerDay;
  if (unix_seconds > kMaxUtcSeconds + kSecondsPerDay)
    unix_seconds = kMaxUtcSeconds + kSecondsPerDay;
  const std::time_t tt = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (localtime_r(&tt, &tm) == nullptr) return FormatUtc(unix_seconds);
  CivilTime t{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
  if (t.year < kMinYear) return FormatCivil({kMinYear, 1, 1, 0, 0, 0});
  if (t.year > kMaxYear) return FormatCivil({kMaxYear, 12, 31, 23, 59, 59});
  // A leap second from a "right/" zone database has no place in the format.
  if (t.second > 59) t.second = 59;
  return FormatCivil(t);
}

}  // namespace

util::Result<std::int64_t> ParseTimestamp(std::string_view text, TimeZoneMode mode) {
  CivilTime t;
  BLUETRACE_RETURN_IF_ERROR(ParseCivil(text, t));
  if (mode == TimeZoneMode::kUtc) {
    return DaysFromCivil(t.year, t.month, t.day) * kSecondsPerDay + t.hour * 3600 + t.minute * 60 +
           t.second;
  }
  std::tm tm{};
  tm.tm_year = t.year - 1900;
  tm.tm_mon = t.month - 1;
  tm.tm_mday = t.day;
  tm.tm_hour = t.hour;
  tm.tm_min = t.minute;
  tm.tm_sec = t.second;
  tm.tm_isdst = -1;  // let the zone rules decide
  // mktime returns -1 both on failure and for 1969-12-31T23:59:59Z, which is a local time of
  // 1970 east of UTC; reading the instant back tells the two apart (errno does not: glibc
  // may set it while loading the zone even on success).
  const std::time_t result = std::mktime(&tm);
  if (result == static_cast<std::time_t>(-1)) {
    std::tm back{};
    if (localtime_r(&result, &back) == nullptr || back.tm_year != t.year - 1900 ||
        back.tm_mon != t.month - 1 || back.tm_mday != t.day || back.tm_hour != t.hour ||
        back.tm_min != t.minute || back.tm_sec != t.second) {
      return util::InvalidArgument("timestamp " + std::string(text) +
                                   " cannot be represented in local time");
    }
  }
  return static_cast<std::int64_t>(result);
}

std::string FormatTimestamp(std::int64_t unix_seconds, TimeZoneMode mode) {
  return mode == TimeZoneMode::kUtc ? FormatUtc(unix_seconds) : FormatLocal(unix_seconds);
}

}  // namespace bluetrace::protocol
