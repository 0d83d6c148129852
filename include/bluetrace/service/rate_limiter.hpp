// Token-bucket rate limiting keyed by a string (a source address, a UserID).
//
// Each key has a bucket of `burst` tokens refilled at `per_second`; an event is allowed
// when a whole token is available. Memory is bounded by `max_keys`: a bucket that has
// refilled completely is indistinguishable from a fresh one, so such a bucket (looked for
// among the 16 least recently used) is dropped first; otherwise the least recently used
// one is dropped, which can only make the limiter more lenient for that key,
// never lock anyone out. Time comes from the injected Clock's monotonic reading.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "bluetrace/service/server_config.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/thread_annotations.hpp"

namespace bluetrace::service {

class KeyedRateLimiter {
 public:
  KeyedRateLimiter(const util::Clock& clock, RateLimit limit, std::size_t max_keys = 65536);
  KeyedRateLimiter(const KeyedRateLimiter&) = delete;
  KeyedRateLimiter& operator=(const KeyedRateLimiter&) = delete;

  // Takes one token for `key`; false when the bucket is empty (the event is refused), and
  // then, when `retry_after` is given, how long until a token is there (at least 1 ms).
  bool Allow(std::string_view key, std::chrono::milliseconds* retry_after = nullptr) EXCLUDES(mu_);

  // Gives back the token of an event that turned out not to count (a login answered Busy:
  // nothing was checked). Never above the burst; nothing for a key no longer tracked.
  void Refund(std::string_view key) EXCLUDES(mu_);

  // Keys currently tracked (for tests and metrics).
  std::size_t size() const EXCLUDES(mu_);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
    std::list<std::string>::iterator lru_pos;
  };

  double Refill(Bucket& b, std::chrono::steady_clock::time_point now) const;
  void MakeRoom(std::chrono::steady_clock::time_point now) REQUIRES(mu_);

  const util::Clock& clock_;
  const RateLimit limit_;
  const std::size_t max_keys_;
  mutable util::Mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_ GUARDED_BY(mu_);
  std::list<std::string> lru_ GUARDED_BY(mu_);  // front: most recently used
};

}  // namespace bluetrace::service
