// TempDir: a fresh directory under $TMPDIR (or /tmp) removed with its contents when the
// object is destroyed. Every test that touches files uses one, so tests stay hermetic.
#pragma once

#include <string>

namespace bluetrace::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // "<path>/<name>".
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes `contents` to `path` byte for byte (test fixtures).
void WriteFileForTest(const std::string& path, const std::string& contents);
// Reads a file byte for byte; fails the calling test when it cannot.
std::string ReadFileForTest(const std::string& path);
// Path of a file under the source tree (BLUETRACE_SOURCE_DIR is set by CTest).
std::string SourcePath(const std::string& relative);

// Copies tests/data/original/<name> (the original assignment's sample, byte for byte) to
// <dir>/<as> (`as` defaults to `name`).
void CopyOriginalSample(const std::string& dir, const std::string& name,
                        const std::string& as = "");

}  // namespace bluetrace::test
