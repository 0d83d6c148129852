// Counts in messages for people: "1 user", "2 users". Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bluetrace::util {

// "<n> <singular>" when n is 1, else "<n> <plural>".
inline std::string Count(std::uint64_t n, std::string_view singular, std::string_view plural) {
  return std::to_string(n) + " " + std::string(n == 1 ? singular : plural);
}

}  // namespace bluetrace::util
