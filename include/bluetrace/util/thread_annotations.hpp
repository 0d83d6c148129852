// Clang thread-safety annotations (checked by -Wthread-safety in clang builds; no-ops
// elsewhere). Use util::Mutex / util::MutexLock so the analysis sees lock scopes.
#pragma once

#include <mutex>

#if defined(__clang__)
#define BLUETRACE_TSA(x) __attribute__((x))
#else
#define BLUETRACE_TSA(x)
#endif

#define CAPABILITY(x) BLUETRACE_TSA(capability(x))
#define SCOPED_CAPABILITY BLUETRACE_TSA(scoped_lockable)
#define GUARDED_BY(x) BLUETRACE_TSA(guarded_by(x))
#define PT_GUARDED_BY(x) BLUETRACE_TSA(pt_guarded_by(x))
#define REQUIRES(...) BLUETRACE_TSA(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) BLUETRACE_TSA(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) BLUETRACE_TSA(acquire_capability(__VA_ARGS__))
#define RELEASE(...) BLUETRACE_TSA(release_capability(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS BLUETRACE_TSA(no_thread_safety_analysis)

namespace bluetrace::util {

// std::mutex with capability annotations.
class CAPABILITY("mutex") Mutex {
 public:
  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  // For std::condition_variable_any and std::unique_lock.
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

}  // namespace bluetrace::util
