// FileUserStore: the UserStore of credentials.txt and their passwords (docs/ORIGINAL.md §2, 3,
// 6.2, 6.8, 6.9).
//
// The file holds one "<UserID> <secret>" line per user, where the secret is either a
// plaintext password (the original's format) or an Argon2id encoding. Users are kept in
// canonical phone form and in file order. Every change rewrites the whole file atomically
// and durably (FileSystem::ReplaceFileAtomically) before it is applied in memory, so a
// failed write leaves both the file and the store as they were. A rewrite keeps every
// other user's line and the order; it keeps CRLF line ends when the file had them, drops
// blank lines and always ends with a newline.
//
// Other processes. The server and bluetrace-admin both change the file. Every change
// holds the InterProcessLock given at Open while it re-reads the file, checks its
// precondition against what it read (the user exists, the line is still the plaintext
// that was verified, ...) and rewrites it; so a change never writes over one another
// process made a moment before. Argon2 hashing happens before the lock is taken.
//
// Timing. Every Verify costs the same single Argon2id verification whatever the case, so
// its duration reveals neither whether the user exists nor whether the line is plaintext:
// an unknown user is checked against a dummy hash made at Open with the same parameters;
// a plaintext line is compared in constant time (SHA-256 of both, CRYPTO_memcmp) and the
// dummy hash is verified as well. Only a correct plaintext password costs more: the one
// extra hash that replaces the line by its Argon2id encoding.
//
// Thread-safe. Argon2 runs without holding the store's lock, so logins verify in
// parallel; changes (including the plaintext upgrade) are serialised among themselves and
// never block a Verify for longer than an in-memory copy. The FileSystem and the Random
// must outlive the store. Passwords passed in are not kept; internal copies are wiped.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/password_hash.hpp"
#include "bluetrace/store/user_store.hpp"
#include "bluetrace/util/random.hpp"
#include "bluetrace/util/secret.hpp"
#include "bluetrace/util/status.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::store {

class FileUserStore final : public UserStore {
 public:
  // Loads `path`; a missing file is an empty store (the file is created by the first
  // AddUser). Errors: a malformed file is kInvalidArgument naming the file and the line;
  // bad `params` kInvalidArgument; I/O errors as FileSystem reports them; the random
  // generator's error (the dummy hash needs a salt).
  // `lock` coordinates the changes with other processes (see above); empty: none.
  static Result<std::unique_ptr<FileUserStore>> Open(FileSystem& fs, std::string path,
                                                     Argon2Params params, util::Random& random,
                                                     InterProcessLock lock = {});

  FileUserStore(const FileUserStore&) = delete;
  FileUserStore& operator=(const FileUserStore&) = delete;

  // Checks a login. `user` may be in any accepted phone form; a name that is no phone
  // number is an unknown user. Errors: a stored Argon2 encoding libargon2 cannot decode
  // (kInvalidArgument naming the user), or libargon2 failing (kInternal).
  //
  // A correct plaintext password replaces that line by its Argon2id hash. If that upgrade
  // fails (hashing or writing), the login still succeeds (kOk): the file keeps the
  // plaintext line, the next successful login tries again, and the failure is reported in
  // `*upgrade_status` when given (OK otherwise) for the caller to log.
  Result<VerifyResult> Verify(std::string_view user, std::string_view password,
                              Status* upgrade_status = nullptr) override;

  // Adds a user with the Argon2id hash of `password`; durable before it returns OK.
  // Errors: kInvalidArgument for a bad phone number or password (see HashPassword),
  // kAlreadyExists, kUnavailable when the inter-process lock is not had in time, read
  // errors of the file (also kInvalidArgument when another process left it malformed),
  // write errors (the user is then not added). The other changes fail the same ways.
  Status AddUser(std::string_view user, std::string_view password) override;
  // Replaces the password of an existing user (kNotFound otherwise).
  Status SetPassword(std::string_view user, std::string_view password) override;
  // Removes a user (kNotFound when absent).
  Status RemoveUser(std::string_view user) override;
  // Replaces every plaintext line by its Argon2id hash in one atomic rewrite and returns
  // how many there were; 0 and no write when there is none. The hashing runs before the
  // lock is taken; a line another process changed meanwhile is hashed again.
  Result<std::size_t> MigrateAll();
  // Re-reads the file for changes made by another process (bluetrace-admin). On error
  // the store keeps its previous contents.
  Status Reload() override;

  bool Contains(std::string_view user) const override;
  std::size_t size() const override;
  // How many users still have a plaintext line.
  std::size_t plaintext_count() const;

 private:
  struct Entry {
    std::string user;           // canonical
    util::SecretString secret;  // plaintext password or Argon2id encoding
    bool hashed = false;
  };
  struct Contents {
    std::vector<Entry> entries;  // file order
    bool crlf = false;           // the file's line ends
  };

  FileUserStore(FileSystem& fs, std::string path, Argon2Params params, util::Random& random,
                InterProcessLock lock);

  Result<Contents> LoadFile() const;
  // Reads the file and installs it.
  Status LoadAndInstall() REQUIRES(write_mu_) EXCLUDES(mu_);
  // Takes the inter-process lock and installs the file as it is now, so a change decides
  // on and renders from the latest contents. The lock is held until the result is gone.
  Result<std::unique_ptr<FileLock>> LockAndReload() REQUIRES(write_mu_) EXCLUDES(mu_);
  // Installs `contents` (rebuilding the index).
  void Install(Contents contents) REQUIRES(mu_);
  // The file text for the current entries with `replace` applied: each (user, secret)
  // pair replaces that user's secret (or is appended when new); users in `remove` are
  // left out. Returns the text.
  std::string Render(const std::vector<std::pair<std::string, std::string>>& replace,
                     std::string_view remove) const REQUIRES(mu_);
  // Writes the rendered text, then applies the same change in memory. Caller holds
  // write_mu_, so nothing else changes the entries meanwhile.
  Status Commit(const std::vector<std::pair<std::string, std::string>>& replace,
                std::string_view remove) REQUIRES(write_mu_) EXCLUDES(mu_);
  Result<VerifyResult> VerifyPlaintext(const std::string& user, const util::SecretString& stored,
                                       std::string_view password, Status* upgrade_status);

  FileSystem& fs_;
  const std::string path_;
  const Argon2Params params_;
  util::Random& random_;
  const InterProcessLock lock_;
  std::string dummy_hash_;  // set once in Open, read-only afterwards

  // Taken by every change for its whole duration (including the write), before mu_.
  util::Mutex write_mu_;
  // Guards the entries; held only for in-memory work.
  mutable util::Mutex mu_;
  Contents contents_ GUARDED_BY(mu_);
  std::unordered_map<std::string, std::size_t> index_ GUARDED_BY(mu_);  // user -> entry
};

}  // namespace bluetrace::store
