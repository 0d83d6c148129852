// bluetrace-admin staff add|remove|passwd|list: the console's staff accounts
// (store/staff_store.hpp), on the configured storage: staff.txt under .lock-staff, or the
// database. Every change is audited (never a password).
#include <algorithm>
#include <chrono>

#include "admin_commands.hpp"
#include "bluetrace/service/password_rules.hpp"
#include "bluetrace/store/files/file_staff_store.hpp"
#include "bluetrace/store/files/state_dir.hpp"
#include "bluetrace/store/password_hash.hpp"

namespace bluetrace::admin {
namespace {

// Staff see every contact's phone number: a longer minimum than the app's users.
constexpr std::uint32_t kMinStaffPasswordBytes = 12;

// Runs `change(staff, db)` on the configured storage's staff store (`db`: the database's
// stores, for the audit record, or null for staff.txt).
template <typename Fn>
int WithStaff(AdminEnv& env, Fn change) {
  if (OnDatabase(env)) {
    auto db = OpenDatabase(env);
    if (!db.ok()) return Fail(env, db.status().ToString());
    return change(*db->staff, &*db);
  }
  const store::StateDir dir(env.config.state_dir);
  auto staff = store::FileStaffStore::Open(
      env.fs, dir.staff(), {dir.Path(store::StateDir::kStaffLock), std::chrono::seconds(30)});
  if (!staff.ok()) return Fail(env, staff.status().ToString());
  return change(**staff, static_cast<store::Stores*>(nullptr));
}

util::Result<std::string> NewHash(AdminEnv& env, std::string_view password) {
  BLUETRACE_RETURN_IF_ERROR(service::CheckPasswordLength(
      password.size(), std::max(kMinStaffPasswordBytes, env.config.min_password_length),
      env.config.max_password_length));
  return store::HashPassword(
      password,
      {env.config.argon2_memory_kib, env.config.argon2_iterations, env.config.argon2_parallelism},
      env.random);
}

}  // namespace

int StaffAdd(AdminEnv& env, const std::string& name, store::StaffRole role,
             std::string_view password) {
  if (auto st = store::ValidateStaffName(name); !st.ok()) return Usage(env, st.message());
  auto hash = NewHash(env, password);
  if (!hash.ok()) return Fail(env, hash.status().message());
  return WithStaff(env, [&](store::StaffStore& staff, store::Stores* db) {
    if (auto st = staff.Add({name, role, *hash}); !st.ok()) return Fail(env, st.ToString());
    std::fprintf(env.out, "added %s (%s)\n", name.c_str(),
                 std::string(store::StaffRoleName(role)).c_str());
    return Audited(env, "admin_staff_added",
                   {{"staff", name}, {"role", std::string(store::StaffRoleName(role))}}, db);
  });
}

int StaffRemove(AdminEnv& env, const std::string& name) {
  return WithStaff(env, [&](store::StaffStore& staff, store::Stores* db) {
    if (auto st = staff.Remove(name); !st.ok()) return Fail(env, st.ToString());
    std::fprintf(env.out, "removed %s\n", name.c_str());
    return Audited(env, "admin_staff_removed", {{"staff", name}}, db);
  });
}

int StaffPasswd(AdminEnv& env, const std::string& name, std::string_view password) {
  auto hash = NewHash(env, password);
  if (!hash.ok()) return Fail(env, hash.status().message());
  return WithStaff(env, [&](store::StaffStore& staff, store::Stores* db) {
    if (auto st = staff.SetPasswordHash(name, *hash); !st.ok()) return Fail(env, st.ToString());
    std::fprintf(env.out, "password of %s changed; its console sessions ended\n", name.c_str());
    return Audited(env, "admin_staff_password_set", {{"staff", name}}, db);
  });
}

int StaffList(AdminEnv& env) {
  return WithStaff(env, [&](store::StaffStore& staff, store::Stores*) {
    auto members = staff.List();
    if (!members.ok()) return Fail(env, members.status().ToString());
    if (members->empty()) std::fputs("no staff accounts\n", env.err);
    const std::int64_t now = env.clock.NowUnixSeconds();
    for (const auto& m : *members) {
      auto until = staff.BlockedUntil(m.name, now);
      std::fprintf(env.out, "%s %s%s\n", m.name.c_str(),
                   std::string(store::StaffRoleName(m.role)).c_str(),
                   until.ok() && *until > now
                       ? (" (blocked for " + std::to_string(*until - now) + " s)").c_str()
                       : "");
    }
    return kExitOk;
  });
}

}  // namespace bluetrace::admin
