// The only translation unit that includes toml++ (see the header for why).
#include "bluetrace/util/config_reader.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

// toml++ 3.3 aborts on some malformed input through its assert when NDEBUG is unset, and
// must not throw across our interfaces: compile it header-only, no exceptions, no assert.
#undef NDEBUG
#define TOML_ASSERT(expr) static_cast<void>(0)
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#define TOML_ENABLE_FORMATTERS 0
#include <toml++/toml.h>

namespace bluetrace::util {
namespace {

// The code point of the UTF-8 sequence at s[i], advancing i past it. Bytes that are no
// UTF-8 (possible only in values that came from elsewhere than a parsed file) give U+FFFD.
std::uint32_t DecodeUtf8(std::string_view s, std::size_t& i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  const std::size_t extra = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : 0;
  std::uint32_t cp = lead & (0x3fu >> extra);
  bool ok = extra > 0 && lead < 0xf8 && i + extra < s.size();
  for (std::size_t k = 1; ok && k <= extra; ++k) {
    const auto next = static_cast<unsigned char>(s[i + k]);
    ok = (next & 0xc0) == 0x80;
    cp = (cp << 6) | (next & 0x3fu);
  }
  static constexpr std::uint32_t kShortest[] = {0, 0x80, 0x800, 0x10000};
  ok = ok && cp >= kShortest[extra] && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
  i += ok ? extra + 1 : 1;
  return ok ? cp : 0xfffd;
}

std::string Where(std::string_view source, const toml::source_region& r) {
  return std::string(source) + ": line " + std::to_string(r.begin.line);
}

}  // namespace

Result<ConfigReader> ConfigReader::Parse(std::string_view toml_text, std::string_view source) {
  for (std::size_t i = 0; i < toml_text.size(); ++i) {
    const auto c = static_cast<unsigned char>(toml_text[i]);
    if (c >= 0x80 || (c < 0x20 && c != '\n' && c != '\r' && c != '\t')) {
      std::size_t line = 1;
      for (std::size_t j = 0; j < i; ++j) line += toml_text[j] == '\n' ? 1u : 0u;
      return InvalidArgument(std::string(source) + ": line " + std::to_string(line) +
                             ": only printable ASCII is allowed in configuration files");
    }
  }
  toml::parse_result parsed = toml::parse(toml_text, source);
  if (!parsed) {
    const auto& err = parsed.error();
    return InvalidArgument(Where(source, err.source()) + ": " + std::string(err.description()));
  }
  ConfigReader reader;
  reader.source_ = std::string(source);
  const toml::table& root = parsed.table();
  for (const auto& [table_key, node] : root) {
    const std::string table_name(table_key.str());
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      return InvalidArgument(Where(source, node.source()) + ": '" + table_name +
                             "' must be a table such as [" + table_name + "]");
    }
    for (const auto& [key, value] : *table) {
      const std::string name = table_name + "." + std::string(key.str());
      if (auto b = value.value_exact<bool>()) {
        reader.values_[name] = *b;
      } else if (auto i = value.value_exact<std::int64_t>()) {
        reader.values_[name] = *i;
      } else if (auto d = value.value_exact<double>()) {
        reader.values_[name] = *d;
      } else if (auto s = value.value_exact<std::string>()) {
        reader.values_[name] = *s;
      } else {
        return InvalidArgument(Where(source, value.source()) + ": " + name +
                               ": only booleans, integers, floats and strings are supported");
      }
    }
  }
  return reader;
}

Status ConfigReader::TypeError(const std::string& key, std::string_view expected) const {
  return InvalidArgument(source_ + ": " + key + ": must be " + std::string(expected));
}

Status ConfigReader::Get(const std::string& key, bool& out) {
  auto it = values_.find(key);
  if (it == values_.end()) return Status::Ok();
  used_.insert(key);
  if (!std::holds_alternative<bool>(it->second)) return TypeError(key, "true or false");
  out = std::get<bool>(it->second);
  return Status::Ok();
}

Status ConfigReader::Get(const std::string& key, std::string& out) {
  auto it = values_.find(key);
  if (it == values_.end()) return Status::Ok();
  used_.insert(key);
  if (!std::holds_alternative<std::string>(it->second)) return TypeError(key, "a string");
  out = std::get<std::string>(it->second);
  return Status::Ok();
}

Status ConfigReader::Get(const std::string& key, double& out, double min, double max) {
  auto it = values_.find(key);
  if (it == values_.end()) return Status::Ok();
  used_.insert(key);
  double v = 0;
  if (std::holds_alternative<double>(it->second)) {
    v = std::get<double>(it->second);
  } else if (std::holds_alternative<std::int64_t>(it->second)) {
    v = static_cast<double>(std::get<std::int64_t>(it->second));
  } else {
    return TypeError(key, "a number");
  }
  if (!(v >= min && v <= max)) {  // also rejects NaN
    return InvalidArgument(source_ + ": " + key + ": must be between " + std::to_string(min) +
                           " and " + std::to_string(max) + ", got " + std::to_string(v));
  }
  out = v;
  return Status::Ok();
}

Status ConfigReader::GetInt(const std::string& key, std::int64_t& out, std::int64_t min,
                            std::int64_t max, bool& present) {
  present = false;
  auto it = values_.find(key);
  if (it == values_.end()) return Status::Ok();
  used_.insert(key);
  if (!std::holds_alternative<std::int64_t>(it->second)) return TypeError(key, "an integer");
  const std::int64_t v = std::get<std::int64_t>(it->second);
  if (v < min || v > max) {
    return InvalidArgument(source_ + ": " + key + ": must be between " + std::to_string(min) +
                           " and " + std::to_string(max) + ", got " + std::to_string(v));
  }
  out = v;
  present = true;
  return Status::Ok();
}

Status ConfigReader::GetOneOf(const std::string& key,
                              std::initializer_list<std::string_view> choices, std::string& out) {
  std::string value;
  const bool present = Has(key);
  BLUETRACE_RETURN_IF_ERROR(Get(key, value));
  if (!present) return Status::Ok();
  std::string list;
  for (std::string_view c : choices) {
    if (value == c) {
      out = value;
      return Status::Ok();
    }
    list += list.empty() ? "\"" : ", \"";
    list.append(c).append("\"");
  }
  return InvalidArgument(source_ + ": " + key + ": must be one of " + list + "; got \"" + value +
                         "\"");
}

std::string TomlQuote(std::string_view s) {
  // Control characters other than tab may not appear raw in a TOML string, and Parse
  // takes ASCII only: both are written as \uXXXX / \UXXXXXXXX escapes of their code point.
  auto escape = [](std::uint32_t code_point) {
    char buf[16];
    std::snprintf(buf, sizeof buf, code_point > 0xffff ? "\\U%08X" : "\\u%04X", code_point);
    return std::string(buf);
  };
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += s[i++];
    } else if ((c >= 0x20 && c < 0x7f) || c == '\t') {
      out += s[i++];
    } else if (c < 0x80) {
      out += escape(c);
      ++i;
    } else {
      out += escape(DecodeUtf8(s, i));
    }
  }
  return out + "\"";
}

Status ConfigReader::CheckNoUnknownKeys() const {
  std::string unknown;
  for (const auto& [key, value] : values_) {
    if (used_.count(key) != 0) continue;
    if (!unknown.empty()) unknown += ", ";
    unknown += key;
  }
  if (unknown.empty()) return Status::Ok();
  return InvalidArgument(source_ + ": unknown key(s): " + unknown);
}

}  // namespace bluetrace::util
