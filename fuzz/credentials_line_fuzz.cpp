// Fuzzes ParseCredentialsFile. Every parsed entry must have a canonical, unique user and
// survive Format -> Parse unchanged (secret and hashed flag included); a failure must be
// kInvalidArgument naming the file and line.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "bluetrace/protocol/phone.hpp"
#include "bluetrace/protocol/text_records.hpp"

namespace {

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bluetrace::protocol;
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  auto entries = ParseCredentialsFile(content, "credentials.txt");
  if (!entries.ok()) {
    Check(entries.status().code() == bluetrace::util::StatusCode::kInvalidArgument);
    Check(entries.status().message().rfind("credentials.txt line ", 0) == 0);
    return 0;
  }
  std::set<std::string> users;
  for (const CredentialsEntry& entry : *entries) {
    Check(IsCanonicalPhone(entry.user));
    Check(users.insert(entry.user).second);
    Check(entry.hashed == (entry.secret.view().rfind("$argon2id$v=19$", 0) == 0));
    const std::string line = FormatCredentialsLine(entry.user, entry.secret.view());
    auto back = ParseCredentialsLine(line);
    Check(back.ok());
    Check(*back == entry);
  }
  return 0;
}
