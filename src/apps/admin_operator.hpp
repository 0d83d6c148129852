// Who runs bluetrace-admin, for the `by=` of its audit records. The tool must run as the
// state directory's owner (`sudo -u _bluetrace ...`), so the effective user says nothing
// about the person; the operator is, in this order:
//  1. SUDO_USER, when sudo started us: it is set, names an existing account whose uid is
//     SUDO_UID (when that is set too), and we run as root or as the state's owner;
//  2. the audit login uid (/proc/self/loginuid, set at login by pam_loginuid and kept
//     across sudo, su and runuser; 4294967295 means unset);
//  3. the effective user.
// The effective user is recorded too (`as=`) when it is not the operator, so a SUDO_USER
// set by hand in the service account's own shell still leaves the truth in the record.
// Pure functions over the facts; CurrentOperatorFacts() gathers them from the process.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "bluetrace/store/file_system.hpp"

namespace bluetrace::admin {

struct OperatorFacts {
  std::optional<std::string> sudo_user;  // $SUDO_USER
  std::optional<std::string> sudo_uid;   // $SUDO_UID
  std::optional<std::string> loginuid;   // the text of /proc/self/loginuid
  uid_t euid = 0;
  bool euid_owns_state = false;  // the effective user owns the state directory
};

// Account lookups, injectable for tests (getpwnam / getpwuid in the program).
struct UserDirectory {
  std::function<std::optional<uid_t>(const std::string& name)> uid_of;
  std::function<std::optional<std::string>(uid_t uid)> name_of;
};

struct OperatorIdentity {
  std::string by;  // the person
  std::string as;  // the effective user when it is not `by`; empty otherwise
};

// The uid in /proc/self/loginuid's text; nullopt when unset (4294967295) or unreadable.
std::optional<uid_t> ParseLoginUid(const std::string& text);

OperatorIdentity ResolveOperator(const OperatorFacts& facts, const UserDirectory& users);

// The facts of this process; `state_dir` decides euid_owns_state.
OperatorFacts CurrentOperatorFacts(store::FileSystem& fs, const std::string& state_dir);

// getpwnam / getpwuid.
UserDirectory SystemUserDirectory();

}  // namespace bluetrace::admin
