#include "bluetrace/store/files/file_user_store.hpp"

#include <openssl/crypto.h>

#include <utility>

#include "bluetrace/protocol/phone.hpp"
#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/util/digest.hpp"

namespace bluetrace::store {
namespace {

// Wipes the plaintext passwords a rendered file text may hold once it is written.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::string& s) : s_(s) {}
  ~WipeOnExit() { util::WipeString(s_); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::string& s_;
};

}  // namespace

FileUserStore::FileUserStore(FileSystem& fs, std::string path, Argon2Params params,
                             util::Random& random, InterProcessLock lock)
    : fs_(fs), path_(std::move(path)), params_(params), random_(random), lock_(std::move(lock)) {}

Result<std::unique_ptr<FileUserStore>> FileUserStore::Open(FileSystem& fs, std::string path,
                                                           Argon2Params params,
                                                           util::Random& random,
                                                           InterProcessLock lock) {
  BLUETRACE_RETURN_IF_ERROR(ValidateArgon2Params(params));
  std::unique_ptr<FileUserStore> store(
      new FileUserStore(fs, std::move(path), params, random, std::move(lock)));
  BLUETRACE_ASSIGN_OR_RETURN(store->dummy_hash_, MakeDummyHash(params, random));
  BLUETRACE_RETURN_IF_ERROR(store->Reload());
  return store;
}

Result<FileUserStore::Contents> FileUserStore::LoadFile() const {
  auto text = fs_.ReadFile(path_);
  if (!text.ok()) {
    if (text.status().code() == util::StatusCode::kNotFound) return Contents{};
    return text.status();
  }
  WipeOnExit wipe(*text);
  BLUETRACE_ASSIGN_OR_RETURN(auto parsed, protocol::ParseCredentialsFile(*text, path_));
  Contents contents;
  const std::size_t nl = text->find('\n');
  contents.crlf = nl != std::string::npos && nl > 0 && (*text)[nl - 1] == '\r';
  for (protocol::CredentialsEntry& e : parsed) {
    contents.entries.push_back(Entry{std::move(e.user), std::move(e.secret), e.hashed});
  }
  return contents;
}

void FileUserStore::Install(Contents contents) {
  contents_ = std::move(contents);
  index_.clear();
  for (std::size_t i = 0; i < contents_.entries.size(); ++i) {
    index_.emplace(contents_.entries[i].user, i);
  }
}

Status FileUserStore::Reload() {
  util::MutexLock w(write_mu_);
  return LoadAndInstall();
}

Status FileUserStore::LoadAndInstall() {
  BLUETRACE_ASSIGN_OR_RETURN(auto contents, LoadFile());
  util::MutexLock l(mu_);
  Install(std::move(contents));
  return Status::Ok();
}

Result<std::unique_ptr<FileLock>> FileUserStore::LockAndReload() {
  BLUETRACE_ASSIGN_OR_RETURN(auto held, AcquireLock(fs_, lock_));
  BLUETRACE_RETURN_IF_ERROR(LoadAndInstall());
  return held;
}

std::string FileUserStore::Render(const std::vector<std::pair<std::string, std::string>>& replace,
                                  std::string_view remove) const {
  const std::string_view eol = contents_.crlf ? "\r\n" : "\n";
  std::string out;
  const auto find_replacement = [&](std::string_view user) -> const std::string* {
    for (const auto& [u, secret] : replace) {
      if (u == user) return &secret;
    }
    return nullptr;
  };
  for (const Entry& e : contents_.entries) {
    if (e.user == remove) continue;
    const std::string* secret = find_replacement(e.user);
    std::string line = protocol::FormatCredentialsLine(e.user, secret ? *secret : e.secret.view());
    out += line;
    out += eol;
    util::WipeString(line);
  }
  for (const auto& [user, secret] : replace) {
    if (index_.count(user) == 0) {
      out += protocol::FormatCredentialsLine(user, secret);
      out += eol;
    }
  }
  return out;
}

Status FileUserStore::Commit(const std::vector<std::pair<std::string, std::string>>& replace,
                             std::string_view remove) {
  std::string text;
  {
    util::MutexLock l(mu_);
    text = Render(replace, remove);
  }
  WipeOnExit wipe(text);
  // Only changes hold write_mu_, so the entries rendered above are still current.
  BLUETRACE_RETURN_IF_ERROR(fs_.ReplaceFileAtomically(path_, text, 0600));
  util::MutexLock l(mu_);
  for (const auto& [user, secret] : replace) {
    if (auto it = index_.find(user); it != index_.end()) {
      Entry& e = contents_.entries[it->second];
      e.secret = util::SecretString(secret);
      e.hashed = true;
    } else {
      index_.emplace(user, contents_.entries.size());
      contents_.entries.push_back(Entry{user, util::SecretString(secret), true});
    }
  }
  if (auto it = index_.find(std::string(remove)); it != index_.end()) {
    contents_.entries.erase(contents_.entries.begin() + static_cast<std::ptrdiff_t>(it->second));
    Install(std::move(contents_));
  }
  return Status::Ok();
}

Result<VerifyResult> FileUserStore::Verify(std::string_view user, std::string_view password,
                                           Status* upgrade_status) {
  if (upgrade_status != nullptr) *upgrade_status = Status::Ok();
  auto canonical = protocol::CanonicalPhone(user);
  // Copy the entry under the lock; Argon2 runs after it is released.
  bool found = false;
  bool hashed = false;
  util::SecretString stored;
  if (canonical.ok()) {
    util::MutexLock l(mu_);
    if (auto it = index_.find(*canonical); it != index_.end()) {
      const Entry& e = contents_.entries[it->second];
      found = true;
      hashed = e.hashed;
      stored = util::SecretString(e.secret.view());
    }
  }
  if (!found) {
    BLUETRACE_RETURN_IF_ERROR(VerifyPassword(dummy_hash_, password).status());
    return VerifyResult::kUnknownUser;
  }
  if (!hashed) return VerifyPlaintext(*canonical, stored, password, upgrade_status);
  auto match = VerifyPassword(stored.view(), password);
  if (!match.ok()) return match.status().WithContext("credentials of " + *canonical);
  return *match ? VerifyResult::kOk : VerifyResult::kWrongPassword;
}

Result<VerifyResult> FileUserStore::VerifyPlaintext(const std::string& user,
                                                    const util::SecretString& stored,
                                                    std::string_view password,
                                                    Status* upgrade_status) {
  // Digests of two strings compare in constant time whatever their lengths.
  Result<util::Sha256Digest> a = util::Sha256(stored.view());
  Result<util::Sha256Digest> b = util::Sha256(password);
  const bool match = a.ok() && b.ok() && CRYPTO_memcmp(a->data(), b->data(), a->size()) == 0;
  if (a.ok()) OPENSSL_cleanse(a->data(), a->size());
  if (b.ok()) OPENSSL_cleanse(b->data(), b->size());
  BLUETRACE_RETURN_IF_ERROR(a.status());
  BLUETRACE_RETURN_IF_ERROR(b.status());
  // The same Argon2 cost as every other Verify.
  BLUETRACE_RETURN_IF_ERROR(VerifyPassword(dummy_hash_, password).status());
  if (!match) return VerifyResult::kWrongPassword;

  Status upgrade = [&]() -> Status {
    BLUETRACE_ASSIGN_OR_RETURN(auto hash, HashPassword(password, params_, random_));
    util::MutexLock w(write_mu_);
    BLUETRACE_ASSIGN_OR_RETURN(auto held, LockAndReload());
    {
      // Another thread or process may have upgraded, changed or removed the entry
      // meanwhile.
      util::MutexLock l(mu_);
      auto it = index_.find(user);
      if (it == index_.end()) return Status::Ok();
      const Entry& e = contents_.entries[it->second];
      if (e.hashed || !(e.secret == stored)) return Status::Ok();
    }
    return Commit({{user, std::move(hash)}}, {});
  }();
  if (upgrade_status != nullptr) {
    *upgrade_status = upgrade.WithContext("upgrading the plaintext password of " + user);
  }
  return VerifyResult::kOk;
}

Status FileUserStore::AddUser(std::string_view user, std::string_view password) {
  BLUETRACE_ASSIGN_OR_RETURN(auto canonical, protocol::CanonicalPhone(user));
  if (Contains(canonical)) return util::AlreadyExists("user " + canonical + " exists");
  BLUETRACE_ASSIGN_OR_RETURN(auto hash, HashPassword(password, params_, random_));
  util::MutexLock w(write_mu_);
  BLUETRACE_ASSIGN_OR_RETURN(auto held, LockAndReload());
  if (Contains(canonical)) return util::AlreadyExists("user " + canonical + " exists");
  return Commit({{canonical, std::move(hash)}}, {});
}

Status FileUserStore::SetPassword(std::string_view user, std::string_view password) {
  BLUETRACE_ASSIGN_OR_RETURN(auto canonical, protocol::CanonicalPhone(user));
  if (!Contains(canonical)) return util::NotFound("no user " + canonical);
  BLUETRACE_ASSIGN_OR_RETURN(auto hash, HashPassword(password, params_, random_));
  util::MutexLock w(write_mu_);
  BLUETRACE_ASSIGN_OR_RETURN(auto held, LockAndReload());
  if (!Contains(canonical)) return util::NotFound("no user " + canonical);
  return Commit({{canonical, std::move(hash)}}, {});
}

Status FileUserStore::RemoveUser(std::string_view user) {
  BLUETRACE_ASSIGN_OR_RETURN(auto canonical, protocol::CanonicalPhone(user));
  util::MutexLock w(write_mu_);
  BLUETRACE_ASSIGN_OR_RETURN(auto held, LockAndReload());
  if (!Contains(canonical)) return util::NotFound("no user " + canonical);
  return Commit({}, canonical);
}

Result<std::size_t> FileUserStore::MigrateAll() {
  using Plaintext = std::vector<std::pair<std::string, util::SecretString>>;
  const auto plaintext_lines = [this] {
    util::MutexLock l(mu_);
    Plaintext out;
    for (const Entry& e : contents_.entries) {
      if (!e.hashed) out.emplace_back(e.user, util::SecretString(e.secret.view()));
    }
    return out;
  };
  util::MutexLock w(write_mu_);
  BLUETRACE_RETURN_IF_ERROR(LoadAndInstall());
  std::vector<std::pair<std::string, std::string>> hashes;  // (user, hash of `secret`)
  Plaintext hashed_from;
  // A few rounds at most: a line another process changes while we hash is hashed again.
  for (int round = 0; round < 4; ++round) {
    // Hash what is missing without the inter-process lock (Argon2 is slow); logins in
    // this process go on, since they only need mu_.
    for (auto& [user, secret] : plaintext_lines()) {
      bool done = false;
      for (const auto& [u, s] : hashed_from) done = done || (u == user && s == secret);
      if (done) continue;
      auto hash = HashPassword(secret.view(), params_, random_);
      if (!hash.ok()) return hash.status().WithContext("hashing the password of " + user);
      hashes.emplace_back(user, std::move(hash).value());
      hashed_from.emplace_back(user, std::move(secret));
    }
    BLUETRACE_ASSIGN_OR_RETURN(auto held, LockAndReload());
    const Plaintext now = plaintext_lines();
    if (now.empty()) return std::size_t{0};
    std::vector<std::pair<std::string, std::string>> replace;
    for (const auto& [user, secret] : now) {
      for (std::size_t i = 0; i < hashed_from.size(); ++i) {
        if (hashed_from[i].first == user && hashed_from[i].second == secret) {
          replace.emplace_back(user, hashes[i].second);
          break;
        }
      }
    }
    if (replace.size() == now.size()) {
      BLUETRACE_RETURN_IF_ERROR(Commit(replace, {}));
      return replace.size();
    }
  }
  return util::Unavailable(path_ + " kept changing while its passwords were hashed; run again");
}

bool FileUserStore::Contains(std::string_view user) const {
  auto canonical = protocol::CanonicalPhone(user);
  if (!canonical.ok()) return false;
  util::MutexLock l(mu_);
  return index_.count(*canonical) != 0;
}

std::size_t FileUserStore::size() const {
  util::MutexLock l(mu_);
  return contents_.entries.size();
}

std::size_t FileUserStore::plaintext_count() const {
  util::MutexLock l(mu_);
  std::size_t n = 0;
  for (const Entry& e : contents_.entries) n += e.hashed ? 0 : 1;
  return n;
}

}  // namespace bluetrace::store
