#include "bluetrace/store/staff_store.hpp"

#include <string>

namespace bluetrace::store {

std::string_view StaffRoleName(StaffRole role) {
  return role == StaffRole::kAdmin ? "admin" : "tracer";
}

util::Result<StaffRole> ParseStaffRole(std::string_view text) {
  if (text == "tracer") return StaffRole::kTracer;
  if (text == "admin") return StaffRole::kAdmin;
  return util::InvalidArgument("not a staff role (tracer or admin): \"" + std::string(text) + "\"");
}

util::Status ValidateStaffName(std::string_view name) {
  if (name.empty() || name.size() > kMaxStaffNameBytes) {
    return util::InvalidArgument("a staff name has 1 to " + std::to_string(kMaxStaffNameBytes) +
                                 " characters");
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name[0])) {
    return util::InvalidArgument("a staff name starts with a lower-case letter or a digit");
  }
  for (char c : name) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-') {
      return util::InvalidArgument(
          "a staff name has only lower-case letters, digits, '.', '_' and '-'");
    }
  }
  return util::Status::Ok();
}

}  // namespace bluetrace::store
