// ConfigReader: typed, range-checked access to a TOML configuration file, shared by the
// server and the client configs.
//
// toml++ is compiled in exactly one source (src/util/config_reader.cpp) with exceptions
// off and its debug assert neutralised (toml++ 3.3 asserts on `[[[`); callers see flat keys
// "table.key" and Status errors only. Non-ASCII bytes are rejected before parsing. Only
// scalars (bool, integer, float, string) in top-level tables are supported; arrays and
// nested tables are errors. Not thread-safe; use one reader per parse.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "bluetrace/util/ip_literal.hpp"  // IsIpLiteral, which configurations check
#include "bluetrace/util/status.hpp"

namespace bluetrace::util {

class ConfigReader {
 public:
  using Value = std::variant<bool, std::int64_t, double, std::string>;

  // Parses `toml_text`; errors read "<source>: line <n>: <problem>".
  static Result<ConfigReader> Parse(std::string_view toml_text, std::string_view source);

  bool Has(const std::string& key) const { return values_.count(key) != 0; }

  // Each Get leaves `out` untouched when the key is absent, and fails naming the key when
  // the value has the wrong type or lies outside [min, max].
  Status Get(const std::string& key, bool& out);
  Status Get(const std::string& key, std::string& out);
  Status Get(const std::string& key, double& out, double min, double max);
  template <typename Int>
  Status Get(const std::string& key, Int& out, std::int64_t min, std::int64_t max) {
    std::int64_t v = 0;
    bool present = false;
    BLUETRACE_RETURN_IF_ERROR(GetInt(key, v, min, max, present));
    if (present) out = static_cast<Int>(v);
    return Status::Ok();
  }

  // A string that must be one of `choices`; the error lists them.
  Status GetOneOf(const std::string& key, std::initializer_list<std::string_view> choices,
                  std::string& out);

  // An error naming every key present in the file that no Get asked for (typos).
  Status CheckNoUnknownKeys() const;

  const std::string& source() const { return source_; }

 private:
  Status GetInt(const std::string& key, std::int64_t& out, std::int64_t min, std::int64_t max,
                bool& present);
  Status TypeError(const std::string& key, std::string_view expected) const;

  std::string source_;
  std::map<std::string, Value> values_;
  std::set<std::string> used_;
};

// `s` as a TOML basic string that Parse reads back as `s`: quotes and backslashes escaped,
// control characters (but tab) and non-ASCII characters as \u escapes. Bytes that are not
// UTF-8 (possible only in values that did not come from a parsed file) become U+FFFD.
std::string TomlQuote(std::string_view s);

}  // namespace bluetrace::util
