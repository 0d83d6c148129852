#include "bluetrace/store/known_servers.hpp"

#include <cstdlib>
#include <string>
#include <vector>

#include "bluetrace/protocol/text_lines.hpp"

namespace bluetrace::store {
namespace {

using util::Result;
using util::Status;

// A key is "<host>:<port>": a non-empty host without spaces, a decimal port 1-65535.
bool IsServerKey(std::string_view key) {
  const auto colon = key.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= key.size()) return false;
  const std::string_view host = key.substr(0, colon);
  const std::string_view port = key.substr(colon + 1);
  if (port.size() > 5) return false;
  std::uint32_t value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (value == 0 || value > 65535) return false;
  for (char c : host) {
    if (c <= ' ' || c > '~' || c == '#') return false;
  }
  return true;
}

bool IsCommentOrBlank(std::string_view line) {
  const auto first = line.find_first_not_of(" \t");
  return first == std::string_view::npos || line[first] == '#';
}

struct Line {
  std::string text;  // as read, without its line end
  std::string key;   // empty for comments and blank lines
  std::string fingerprint;
};

// Every line of the file; kCorruption naming the file and the line for a malformed one.
Result<std::vector<Line>> ReadLines(FileSystem& fs, const std::string& path) {
  auto text = fs.ReadFile(path, 16u << 20);
  if (!text.ok()) {
    if (text.status().code() == util::StatusCode::kNotFound) return std::vector<Line>();
    return text.status();
  }
  std::vector<Line> lines;
  std::uint64_t number = 0;
  std::size_t pos = 0;
  while (pos < text->size()) {
    auto nl = text->find('\n', pos);
    if (nl == std::string::npos) nl = text->size();
    std::string_view raw(text->data() + pos, nl - pos);
    pos = nl + 1;
    ++number;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    Line line{std::string(raw), "", ""};
    if (!IsCommentOrBlank(raw)) {
      const auto space = raw.find(' ');
      const bool ok = space != std::string_view::npos && IsServerKey(raw.substr(0, space)) &&
                      IsSha256Fingerprint(raw.substr(space + 1));
      if (!ok) {
        return util::Corruption(path + " line " + std::to_string(number) +
                                ": expected \"<host>:<port> SHA256:<fingerprint>\"");
      }
      line.key = std::string(raw.substr(0, space));
      line.fingerprint = std::string(raw.substr(space + 1));
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string DirectoryOf(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::string KnownServerKey(std::string_view host, std::uint16_t port) {
  const std::string h(host);
  return (h.find(':') == std::string::npos ? h : "[" + h + "]") + ":" + std::to_string(port);
}

Result<std::optional<std::string>> KnownServers::Lookup(std::string_view host_port) const {
  BLUETRACE_ASSIGN_OR_RETURN(const std::vector<Line> lines, ReadLines(fs_, path_));
  for (const Line& line : lines) {
    // Comment and blank lines have an empty key; they never match.
    if (!line.key.empty() && line.key == host_port) {
      return std::optional<std::string>(line.fingerprint);
    }
  }
  return std::optional<std::string>();
}

Status KnownServers::Remember(std::string_view host_port, std::string_view fingerprint) {
  if (!IsServerKey(host_port)) {
    return util::InvalidArgument("not a \"<host>:<port>\": \"" + std::string(host_port) + "\"");
  }
  if (!IsSha256Fingerprint(fingerprint)) {
    return util::InvalidArgument("not a SHA-256 fingerprint: \"" + std::string(fingerprint) + "\"");
  }
  BLUETRACE_ASSIGN_OR_RETURN(const std::vector<Line> lines, ReadLines(fs_, path_));
  const std::string entry = std::string(host_port) + " " + std::string(fingerprint);
  std::string text;
  bool replaced = false;
  for (const Line& line : lines) {
    if (line.key == host_port) {
      if (!replaced) text += entry + "\n";
      replaced = true;
    } else {
      text += line.text + "\n";
    }
  }
  if (!replaced) text += entry + "\n";
  BLUETRACE_RETURN_IF_ERROR(fs_.CreateDirs(DirectoryOf(path_), 0700));
  return fs_.ReplaceFileAtomically(path_, text, 0600);
}

Result<std::string> KnownServersPathFrom(const char* xdg_state_home, const char* home) {
  // The XDG base directory spec says relative values are invalid and must be ignored.
  if (xdg_state_home != nullptr && xdg_state_home[0] == '/') {
    return JoinPath(xdg_state_home, "bluetrace/known_servers");
  }
  if (home != nullptr && home[0] != '\0') {
    return JoinPath(home, ".local/state/bluetrace/known_servers");
  }
  return util::NotFound(
      "neither XDG_STATE_HOME nor HOME is set, so there is no place for the known-servers "
      "file; pass --known-servers <file> (config tls.known_servers) or --ca-file <server "
      "certificate>");
}

Result<std::string> DefaultKnownServersPath() {
  return KnownServersPathFrom(std::getenv("XDG_STATE_HOME"), std::getenv("HOME"));
}

}  // namespace bluetrace::store
