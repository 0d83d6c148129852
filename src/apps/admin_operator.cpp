#include "admin_operator.hpp"

#include <pwd.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace bluetrace::admin {
namespace {

constexpr std::uint64_t kUnsetLoginUid = 4294967295u;  // (uid_t)-1: no login recorded

std::optional<std::uint64_t> ParseDecimal(const std::string& text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string NameOrUid(const UserDirectory& users, uid_t uid) {
  auto name = users.name_of(uid);
  return name ? *name : "uid" + std::to_string(uid);
}

std::optional<std::string> Env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

}  // namespace

std::optional<uid_t> ParseLoginUid(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  auto value = ParseDecimal(t);
  if (!value || *value >= kUnsetLoginUid) return std::nullopt;
  return static_cast<uid_t>(*value);
}

OperatorIdentity ResolveOperator(const OperatorFacts& facts, const UserDirectory& users) {
  const std::string effective = NameOrUid(users, facts.euid);
  OperatorIdentity id;
  if (facts.sudo_user && !facts.sudo_user->empty() && (facts.euid == 0 || facts.euid_owns_state)) {
    const auto uid = users.uid_of(*facts.sudo_user);
    const auto sudo_uid = facts.sudo_uid ? ParseDecimal(*facts.sudo_uid) : std::nullopt;
    if (uid && (!facts.sudo_uid || (sudo_uid && *sudo_uid == *uid))) id.by = *facts.sudo_user;
  }
  if (id.by.empty() && facts.loginuid) {
    if (auto uid = ParseLoginUid(*facts.loginuid)) id.by = NameOrUid(users, *uid);
  }
  if (id.by.empty()) id.by = effective;
  if (id.by != effective) id.as = effective;
  return id;
}

OperatorFacts CurrentOperatorFacts(store::FileSystem& fs, const std::string& state_dir) {
  OperatorFacts facts;
  facts.sudo_user = Env("SUDO_USER");
  facts.sudo_uid = Env("SUDO_UID");
  std::ifstream in("/proc/self/loginuid");
  if (in) {
    std::ostringstream text;
    text << in.rdbuf();
    facts.loginuid = text.str();
  }
  facts.euid = geteuid();
  auto info = fs.Stat(state_dir);
  facts.euid_owns_state = info.ok() && info->owner == facts.euid;
  return facts;
}

UserDirectory SystemUserDirectory() {
  UserDirectory users;
  users.uid_of = [](const std::string& name) -> std::optional<uid_t> {
    const passwd* pw = getpwnam(name.c_str());
    if (pw == nullptr) return std::nullopt;
    return pw->pw_uid;
  };
  users.name_of = [](uid_t uid) -> std::optional<std::string> {
    const passwd* pw = getpwuid(uid);
    if (pw == nullptr) return std::nullopt;
    return std::string(pw->pw_name);
  };
  return users;
}

}  // namespace bluetrace::admin
