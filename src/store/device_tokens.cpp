#include "bluetrace/store/device_tokens.hpp"

#include <algorithm>
#include <vector>

namespace bluetrace::store {
namespace {

using util::Result;
using util::Status;

struct Entry {
  std::string server, user, token;
};

bool IsField(std::string_view s) {
  return !s.empty() && s.size() <= 512 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

bool IsToken(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string DirectoryOf(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Result<std::vector<Entry>> ReadEntries(FileSystem& fs, const std::string& path) {
  auto text = fs.ReadFile(path, 16u << 20);
  if (!text.ok()) {
    if (text.status().code() == util::StatusCode::kNotFound) return std::vector<Entry>();
    return text.status();
  }
  std::vector<Entry> entries;
  std::size_t pos = 0;
  std::uint64_t number = 0;
  while (pos < text->size()) {
    auto nl = text->find('\n', pos);
    if (nl == std::string::npos) nl = text->size();
    const std::string_view line(text->data() + pos, nl - pos);
    pos = nl + 1;
    ++number;
    if (line.empty()) continue;
    const auto a = line.find(' ');
    const auto b = a == std::string_view::npos ? a : line.find(' ', a + 1);
    if (b == std::string_view::npos || !IsField(line.substr(0, a)) ||
        !IsField(line.substr(a + 1, b - a - 1)) || !IsToken(line.substr(b + 1))) {
      return util::Corruption(path + " line " + std::to_string(number) +
                              ": expected \"<host>:<port> <user> <token>\"");
    }
    entries.push_back(Entry{std::string(line.substr(0, a)),
                            std::string(line.substr(a + 1, b - a - 1)),
                            std::string(line.substr(b + 1))});
  }
  return entries;
}

}  // namespace

Result<std::optional<std::string>> DeviceTokens::Lookup(std::string_view server,
                                                        std::string_view user) const {
  BLUETRACE_ASSIGN_OR_RETURN(auto entries, ReadEntries(fs_, path_));
  for (const Entry& e : entries) {
    if (e.server == server && e.user == user) return std::optional<std::string>(e.token);
  }
  return std::optional<std::string>();
}

Status DeviceTokens::Remember(std::string_view server, std::string_view user,
                              std::string_view token) {
  if (!IsField(server) || !IsField(user) || !IsToken(token)) {
    return util::InvalidArgument("not a device token entry");
  }
  BLUETRACE_ASSIGN_OR_RETURN(auto entries, ReadEntries(fs_, path_));
  std::string text;
  for (const Entry& e : entries) {
    if (e.server == server && e.user == user) continue;
    text += e.server + " " + e.user + " " + e.token + "\n";
  }
  text += std::string(server) + " " + std::string(user) + " " + std::string(token) + "\n";
  BLUETRACE_RETURN_IF_ERROR(fs_.CreateDirs(DirectoryOf(path_), 0700));
  return fs_.ReplaceFileAtomically(path_, text, 0600);
}

std::string DeviceTokensPathBeside(const std::string& known_servers_path) {
  return JoinPath(DirectoryOf(known_servers_path), "device_tokens");
}

}  // namespace bluetrace::store
