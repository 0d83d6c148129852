// NoFreeDescriptors: while it lives, the test process cannot make a new file descriptor,
// so that code under test meets EMFILE (accept, open) without opening thousands of
// files. It takes every free descriptor number below the highest one in use, then lowers
// the soft RLIMIT_NOFILE to just above it; the destructor restores both. The limit is
// the whole process's: make sockets and files the test needs beforehand (connect() on an
// existing socket takes no new descriptor), and keep the window short.
//
// Not under the sanitizers: their runtimes need descriptors too (UBSan's vptr check opens
// a pipe to probe memory and, finding none, reports an error that is not there). The asan
// preset builds ASan and UBSan together, so an ASan build stands for both; tests skip
// there (kNoFreeDescriptorsInThisBuild).
#pragma once

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace bluetrace::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kNoFreeDescriptorsInThisBuild = false;
#elif defined(__has_feature)
inline constexpr bool kNoFreeDescriptorsInThisBuild = !__has_feature(address_sanitizer);
#else
inline constexpr bool kNoFreeDescriptorsInThisBuild = true;
#endif

class NoFreeDescriptors {
 public:
  NoFreeDescriptors() {
    getrlimit(RLIMIT_NOFILE, &saved_);
    int highest = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
      highest = std::max(highest, std::stoi(entry.path().filename().string()));
    }
    const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) return;
    taken_.push_back(null_fd);
    for (int fd = null_fd; fd < highest;) {
      fd = fcntl(null_fd, F_DUPFD_CLOEXEC, 0);  // the lowest free number
      if (fd < 0) return;
      taken_.push_back(fd);
    }
    rlimit lowered = saved_;
    lowered.rlim_cur = static_cast<rlim_t>(std::max(highest, taken_.back()) + 1);
    ok_ = setrlimit(RLIMIT_NOFILE, &lowered) == 0;
  }
  ~NoFreeDescriptors() {
    setrlimit(RLIMIT_NOFILE, &saved_);
    for (int fd : taken_) close(fd);
  }
  NoFreeDescriptors(const NoFreeDescriptors&) = delete;
  NoFreeDescriptors& operator=(const NoFreeDescriptors&) = delete;

  // False when the window could not be set up (the test should fail).
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  std::vector<int> taken_;
  bool ok_ = false;
};

}  // namespace bluetrace::test
