// ParsePrometheusText: a strict reader of the Prometheus text exposition format 0.0.4 as
// bluetrace writes it, for tests: every line is `# HELP name text`, `# TYPE name type` or
// a sample `name{labels} value`; a family's HELP and TYPE come before its samples, once;
// a sample's name is the family's, or the family's plus _bucket/_sum/_count for a
// histogram. Returns the samples keyed by "name{labels}" (or "name"), or the first
// offending line.
#pragma once

#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "bluetrace/util/status.hpp"

namespace bluetrace::test {

inline util::Result<std::map<std::string, double>> ParsePrometheusText(const std::string& text) {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;  // family name -> type
  std::set<std::string> helped;
  std::istringstream in(text);
  std::string line;
  auto bad = [&line](const std::string& why) {
    return util::InvalidArgument(why + ": \"" + line + "\"");
  };
  auto is_name = [](const std::string& n) {
    if (n.empty() || (n[0] >= '0' && n[0] <= '9')) return false;
    for (char c : n) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == ':')) {
        return false;
      }
    }
    return true;
  };
  if (!text.empty() && text.back() != '\n') return util::InvalidArgument("no final newline");
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      const std::string rest = line.substr(7);
      const auto space = rest.find(' ');
      if (space == std::string::npos) return bad("no text after the name");
      const std::string name = rest.substr(0, space);
      if (!is_name(name)) return bad("bad metric name");
      if (line[2] == 'H') {
        if (!helped.insert(name).second) return bad("second HELP");
      } else {
        const std::string type = rest.substr(space + 1);
        if (type != "counter" && type != "gauge" && type != "histogram") return bad("type");
        if (!helped.count(name)) return bad("TYPE before HELP");
        if (!types.emplace(name, type).second) return bad("second TYPE");
      }
      continue;
    }
    if (line.empty() || line[0] == '#') return bad("unexpected line");
    const auto space = line.rfind(' ');
    if (space == std::string::npos) return bad("no value");
    const std::string key = line.substr(0, space);
    const std::string value = line.substr(space + 1);
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0') return bad("value is not a number");
    const auto brace = key.find('{');
    const std::string name = key.substr(0, brace);
    if (!is_name(name)) return bad("bad metric name");
    if (brace != std::string::npos) {
      // labels: name="value" pairs, comma separated, no escapes needed by bluetrace.
      if (key.back() != '}') return bad("unclosed labels");
      std::string labels = key.substr(brace + 1, key.size() - brace - 2);
      std::size_t pos = 0;
      while (pos < labels.size()) {
        const auto eq = labels.find("=\"", pos);
        if (eq == std::string::npos || !is_name(labels.substr(pos, eq - pos))) {
          return bad("bad label");
        }
        const auto close = labels.find('"', eq + 2);
        if (close == std::string::npos) return bad("unterminated label value");
        pos = close + 1;
        if (pos < labels.size() && labels[pos++] != ',') return bad("labels not comma separated");
      }
    }
    std::string family = name;
    if (!types.count(family)) {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string s(suffix);
        if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
          const std::string base = name.substr(0, name.size() - s.size());
          if (types.count(base) && types[base] == "histogram") family = base;
        }
      }
    }
    if (!types.count(family)) return bad("sample before its HELP and TYPE");
    if (types[family] == "counter" && family.size() >= 6 &&
        family.compare(family.size() - 6, 6, "_total") != 0) {
      return bad("counter not ending in _total");
    }
    if (!samples.emplace(key, v).second) return bad("duplicate sample");
  }
  return samples;
}

}  // namespace bluetrace::test
