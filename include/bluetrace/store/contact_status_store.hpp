// ContactStatusStore: what the contact tracers did about each contact (a phone number named
// by the reports): a status and a free-text note, with who changed it and when. Implemented
// by files/file_contact_status_store.hpp (<state_dir>/contact_status.txt) and
// postgres/pg_contact_status_store.hpp; the contract is proven for every backend by
// tests/store/contract/staff_store_contract.cpp.
//
// Contract. One record per phone number; Set replaces it, durably when it returns OK, and
// every handle sees it at once (files: List re-reads the file). Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/util/status.hpp"

namespace bluetrace::store {

enum class ContactStatus { kToCall, kReached, kUnreachable, kNotNeeded };

// The stored names: "to_call", "reached", "unreachable", "not_needed".
std::string_view ContactStatusName(ContactStatus status);
// For people: "to call", "reached", "unreachable", "not needed".
std::string_view ContactStatusLabel(ContactStatus status);
// The inverse of ContactStatusName; kInvalidArgument otherwise.
util::Result<ContactStatus> ParseContactStatus(std::string_view name);
// Every status, in the order of the labels above.
inline constexpr ContactStatus kAllContactStatuses[] = {
    ContactStatus::kToCall, ContactStatus::kReached, ContactStatus::kUnreachable,
    ContactStatus::kNotNeeded};

// Longest note, in bytes (UTF-8).
inline constexpr std::size_t kMaxContactNoteBytes = 2000;

struct ContactStatusRecord {
  std::string phone;  // canonical "+<digits>"
  ContactStatus status = ContactStatus::kToCall;
  std::string note;             // any UTF-8 text, newlines included
  std::string updated_by;       // a staff name
  std::int64_t updated_at = 0;  // unix seconds
};

// OK, or kInvalidArgument naming the field: a phone that is not canonical, a note over
// kMaxContactNoteBytes or not UTF-8, an empty updated_by.
util::Status ValidateContactStatusRecord(const ContactStatusRecord& record);

class ContactStatusStore {
 public:
  virtual ~ContactStatusStore() = default;

  // Replaces the record of record.phone. ValidateContactStatusRecord's errors.
  virtual util::Status Set(const ContactStatusRecord& record) = 0;
  // Every record, sorted by phone.
  virtual util::Result<std::vector<ContactStatusRecord>> List() = 0;
};

}  // namespace bluetrace::store
