// FileContactStatusStore: the ContactStatusStore of the file backend
// (contact_status_store.hpp): <state_dir>/contact_status.txt, one "<phone> <status>
// <updated_at> <updated_by> <note>" line per contact (the note percent-encoded, so it may
// hold any text), rewritten atomically and fsynced under .lock-contact-status on every Set;
// List re-reads it. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "bluetrace/store/contact_status_store.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::store {

class FileContactStatusStore final : public ContactStatusStore {
 public:
  // Checks that the file, when present, parses (kCorruption naming the line otherwise).
  static util::Result<std::unique_ptr<FileContactStatusStore>> Open(FileSystem& fs,
                                                                    std::string path,
                                                                    InterProcessLock lock);

  util::Status Set(const ContactStatusRecord& record) override;
  util::Result<std::vector<ContactStatusRecord>> List() override;

 private:
  FileContactStatusStore(FileSystem& fs, std::string path, InterProcessLock lock)
      : fs_(fs), path_(std::move(path)), lock_(std::move(lock)) {}

  FileSystem& fs_;
  const std::string path_;
  const InterProcessLock lock_;
  util::Mutex write_mu_;  // one rewrite at a time within the process
};

// The one parser of contact_status.txt: kCorruption "<path>:<line>: <why>" for a malformed
// line (no final newline, a bad status, time or escape), a record that
// ValidateContactStatusRecord refuses (a phone number that is not canonical, ...) or a phone
// number given twice. The records come sorted by phone. bluetrace-admin's verify and db
// import read the file through it.
util::Result<std::vector<ContactStatusRecord>> ParseContactStatusFile(std::string_view content,
                                                                      const std::string& path);
// The line for `record`, without its line end. The file lists phones in byte order, each
// line ending in '\n'.
std::string FormatContactStatusLine(const ContactStatusRecord& record);

}  // namespace bluetrace::store
