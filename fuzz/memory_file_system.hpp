// MemoryFileSystem: a store::FileSystem held in a map, for fuzz targets that drive a store
// (FileLockoutStore, AuditLog, KnownServers, ContactLogStore) through its real file code
// without touching the disk: no fsync, so a target runs thousands of inputs a second, and
// nothing is left behind. Directories are implicit; locks always succeed (one process).
// Not thread-safe: each fuzz target uses it from the fuzzer's one thread.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/store/file_system.hpp"

namespace bluetrace::fuzz {

class MemoryFileSystem final : public store::FileSystem {
 public:
  // The contents of `path`, or nullptr; for the targets' checks.
  const std::string* Find(const std::string& path) const {
    auto it = files_.find(path);
    return it == files_.end() ? nullptr : &it->second;
  }
  void Put(const std::string& path, std::string_view contents) {
    files_[path] = std::string(contents);
  }
  void Clear() { files_.clear(); }

  util::Result<std::string> ReadFile(const std::string& path, std::uint64_t max_bytes) override {
    const std::string* f = Find(path);
    if (f == nullptr) return util::NotFound("open " + path + ": No such file or directory");
    if (f->size() > max_bytes) return util::ResourceExhausted(path + " is too large");
    return *f;
  }

  util::Result<std::unique_ptr<store::ReadableFile>> OpenForRead(const std::string& path) override {
    const std::string* f = Find(path);
    if (f == nullptr) return util::NotFound("open " + path + ": No such file or directory");
    return std::unique_ptr<store::ReadableFile>(new Reader(*f));
  }

  util::Result<std::unique_ptr<store::AppendFile>> OpenForAppend(const std::string& path,
                                                                 mode_t) override {
    files_.try_emplace(path);
    return std::unique_ptr<store::AppendFile>(new Appender(*this, path));
  }

  util::Status ReplaceFileAtomically(const std::string& path, std::string_view contents,
                                     mode_t) override {
    files_[path] = std::string(contents);
    return util::Status::Ok();
  }

  util::Status Rename(const std::string& from, const std::string& to) override {
    auto it = files_.find(from);
    if (it == files_.end()) return util::NotFound("rename " + from + " -> " + to);
    std::string contents = std::move(it->second);
    files_.erase(it);
    files_[to] = std::move(contents);
    return util::Status::Ok();
  }

  util::Status Truncate(const std::string& path, std::uint64_t size) override {
    auto it = files_.find(path);
    if (it == files_.end()) return util::NotFound("truncate " + path);
    if (size < it->second.size()) it->second.resize(static_cast<std::size_t>(size));
    return util::Status::Ok();
  }

  util::Result<bool> Exists(const std::string& path) override { return Find(path) != nullptr; }

  util::Result<std::uint64_t> FileSize(const std::string& path) override {
    const std::string* f = Find(path);
    if (f == nullptr) return util::NotFound("stat " + path);
    return static_cast<std::uint64_t>(f->size());
  }

  util::Result<mode_t> FileMode(const std::string& path) override {
    if (Find(path) == nullptr) return util::NotFound("stat " + path);
    return static_cast<mode_t>(0600);
  }

  // No clock and no inodes here: a file's inode is a hash of its path and its mtime 0, so
  // only a change of size tells two versions apart.
  util::Result<store::FileInfo> Stat(const std::string& path) override {
    const std::string* f = Find(path);
    if (f == nullptr) return util::NotFound("stat " + path);
    store::FileInfo info;
    info.inode = std::hash<std::string>{}(path);
    info.size = static_cast<std::uint64_t>(f->size());
    info.mode = 0600;
    return info;
  }

  util::Status CreateDirs(const std::string&, mode_t) override { return util::Status::Ok(); }

  util::Result<std::vector<std::string>> ListDir(const std::string& path) override {
    const std::string prefix = path + "/";
    std::vector<std::string> names;
    for (const auto& [name, contents] : files_) {
      if (name.rfind(prefix, 0) == 0 && name.find('/', prefix.size()) == std::string::npos) {
        names.push_back(name.substr(prefix.size()));
      }
    }
    return names;
  }

  util::Status RemoveFile(const std::string& path) override {
    if (files_.erase(path) == 0) return util::NotFound("unlink " + path);
    return util::Status::Ok();
  }

  util::Result<std::unique_ptr<store::FileLock>> LockFile(const std::string& path, bool) override {
    files_.try_emplace(path);
    return std::unique_ptr<store::FileLock>(new Lock());
  }

 private:
  class Reader final : public store::ReadableFile {
   public:
    explicit Reader(std::string contents) : contents_(std::move(contents)) {}
    util::Result<std::size_t> Read(char* buf, std::size_t n) override {
      const std::size_t count = std::min(n, contents_.size() - pos_);
      if (count > 0) std::memcpy(buf, contents_.data() + pos_, count);
      pos_ += count;
      return count;
    }

   private:
    std::string contents_;
    std::size_t pos_ = 0;
  };

  class Appender final : public store::AppendFile {
   public:
    Appender(MemoryFileSystem& fs, std::string path) : fs_(fs), path_(std::move(path)) {}
    util::Status Append(std::string_view data) override {
      fs_.files_[path_].append(data);
      return util::Status::Ok();
    }
    util::Status Sync() override { return util::Status::Ok(); }
    std::uint64_t Size() const override {
      const std::string* f = fs_.Find(path_);
      return f == nullptr ? 0 : static_cast<std::uint64_t>(f->size());
    }
    util::Status Close() override { return util::Status::Ok(); }

   private:
    MemoryFileSystem& fs_;
    std::string path_;
  };

  class Lock final : public store::FileLock {};

  std::map<std::string, std::string> files_;
};

}  // namespace bluetrace::fuzz
