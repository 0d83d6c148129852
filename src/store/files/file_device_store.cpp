#include "bluetrace/store/files/file_device_store.hpp"

#include <charconv>
#include <utility>
#include <vector>

#include "bluetrace/protocol/text_lines.hpp"

namespace bluetrace::store {
Result<std::unique_ptr<FileDeviceStore>> FileDeviceStore::Open(FileSystem& fs,
                                                               const util::Clock& clock,
                                                               std::string path,
                                                               std::string* note) {
  std::unique_ptr<FileDeviceStore> store(new FileDeviceStore(fs, clock, path));
  auto content = fs.ReadFile(path, 256ull << 20);
  std::size_t lines = 0;
  std::string text;
  if (content.ok()) {
    text = std::move(*content);
  } else if (content.status().code() != util::StatusCode::kNotFound) {
    return content.status();
  }
  // A crash mid-append leaves a last line without its end: it was never acknowledged.
  const std::size_t end = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
  const bool torn = end < text.size();
  if (torn) text.resize(end);
  std::vector<std::pair<std::string, Device>> parsed;
  {
    Status st = protocol::ForEachLine(text, path, [&](const protocol::TextLine& line) -> Status {
      const std::string_view t = line.text;
      const std::size_t a = t.find(' ');
      const std::size_t b = a == std::string_view::npos ? a : t.find(' ', a + 1);
      if (b == std::string_view::npos || t.find(' ', b + 1) != std::string_view::npos) {
        return util::Corruption("expected \"<user> <token sha256> <issued unix>\"");
      }
      const std::string_view user = t.substr(0, a);
      const std::string_view hash = t.substr(a + 1, b - a - 1);
      const std::string_view issued = t.substr(b + 1);
      Device d;
      const auto [p, ec] = std::from_chars(issued.data(), issued.data() + issued.size(), d.issued);
      if (!IsDeviceUser(user) || !IsDeviceTokenDigest(hash) || ec != std::errc() ||
          p != issued.data() + issued.size() || d.issued < 0) {
        return util::Corruption("malformed device line");
      }
      d.hash = std::string(hash);
      ++lines;
      parsed.emplace_back(std::string(user), std::move(d));
      return Status::Ok();
    });
    if (!st.ok()) return util::Corruption(st.message());
    util::MutexLock lock(store->mu_);
    for (auto& [user, device] : parsed) store->Remember(user, std::move(device));
    if (torn || (lines > 64 && store->size_ * 2 < lines)) {
      BLUETRACE_RETURN_IF_ERROR(fs.ReplaceFileAtomically(path, store->Serialize(), 0600));
      if (note != nullptr) {
        *note = "devices.txt: " + std::to_string(store->size_) + " device tokens" +
                (torn ? "; a torn last line left by a crash was removed" : "") +
                (lines > store->size_ ? "; " + std::to_string(lines - store->size_) +
                                            " retired tokens compacted away"
                                      : "");
      }
    }
  }
  return store;
}

bool FileDeviceStore::Remember(const std::string& user, Device device) {
  auto& list = devices_[user];
  for (const Device& d : list) {
    if (d.hash == device.hash) return false;
  }
  list.push_back(std::move(device));
  ++size_;
  if (list.size() > kMaxDevicesPerUser) {
    list.pop_front();
    --size_;
  }
  return true;
}

std::string FileDeviceStore::Serialize() const {
  std::string out;
  for (const auto& [user, list] : devices_) {
    for (const Device& d : list) {
      out += user + ' ' + d.hash + ' ' + std::to_string(d.issued) + '\n';
    }
  }
  return out;
}

std::optional<std::string> FileDeviceStore::Find(std::string_view user,
                                                 std::string_view token) const {
  const std::optional<std::string> hash = DigestOfDeviceToken(token);
  if (!hash) return std::nullopt;
  util::MutexLock lock(mu_);
  auto it = devices_.find(std::string(user));
  if (it == devices_.end()) return std::nullopt;
  for (const Device& d : it->second) {
    if (d.hash == *hash) return hash->substr(0, kIdHexDigits);
  }
  return std::nullopt;
}

Result<std::string> FileDeviceStore::Issue(std::string_view user, util::Random& random) {
  if (!IsDeviceUser(user)) return util::InvalidArgument("not a user name");
  BLUETRACE_ASSIGN_OR_RETURN(DeviceToken token, NewDeviceToken(random));
  Device d{token.digest, clock_.NowUnixSeconds()};
  const std::string line = std::string(user) + ' ' + d.hash + ' ' + std::to_string(d.issued) + '\n';
  {
    util::MutexLock append(append_mu_);
    if (!file_ && !broken_) {
      BLUETRACE_ASSIGN_OR_RETURN(auto file, fs_.OpenForAppend(path_, 0600));
      file_ = std::move(file);
    }
    if (broken_) return util::Unavailable(path_ + ": not writable since an earlier failure");
    const std::uint64_t before = file_->Size();
    Status st = file_->Append(line);
    if (st.ok()) st = file_->Sync();
    if (!st.ok()) {
      // Cut a partial line off so that the next line does not run into it; if even that
      // fails, issue nothing more until a restart (Open drops a torn last line).
      file_.reset();
      if (!fs_.Truncate(path_, before).ok()) broken_ = true;
      return st;
    }
  }
  util::MutexLock lock(mu_);
  Remember(std::string(user), std::move(d));
  return std::move(token.token);
}

std::size_t FileDeviceStore::size() const {
  util::MutexLock lock(mu_);
  return size_;
}

}  // namespace bluetrace::store
