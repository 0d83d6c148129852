#include "bluetrace/store/postgres/pg_contact_status_store.hpp"

#include <string>

namespace bluetrace::store {

util::Status PgContactStatusStore::Set(const ContactStatusRecord& r) {
  BLUETRACE_RETURN_IF_ERROR(ValidateContactStatusRecord(r));
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return conn
      ->Exec("set contact status",
             "INSERT INTO contact_status (phone, status, note, updated_by, updated_at) "
             "VALUES ($1, $2, $3, $4, $5::bigint) ON CONFLICT (phone) DO UPDATE SET "
             "status = EXCLUDED.status, note = EXCLUDED.note, updated_by = "
             "EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at",
             {r.phone, std::string(ContactStatusName(r.status)), r.note, r.updated_by,
              std::to_string(r.updated_at)})
      .status();
}

util::Result<std::vector<ContactStatusRecord>> PgContactStatusStore::List() {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(auto res,
                             conn->Exec("list contact statuses",
                                        "SELECT phone, status, note, updated_by, updated_at FROM "
                                        "contact_status ORDER BY phone COLLATE \"C\""));
  std::vector<ContactStatusRecord> out;
  for (int i = 0; i < res.rows(); ++i) {
    ContactStatusRecord r;
    r.phone = std::string(res.Get(i, 0));
    BLUETRACE_ASSIGN_OR_RETURN(r.status, ParseContactStatus(res.Get(i, 1)));
    r.note = std::string(res.Get(i, 2));
    r.updated_by = std::string(res.Get(i, 3));
    BLUETRACE_ASSIGN_OR_RETURN(r.updated_at, res.GetInt(i, 4));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace bluetrace::store
