#include "bluetrace/service/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace bluetrace::service {

KeyedRateLimiter::KeyedRateLimiter(const util::Clock& clock, RateLimit limit, std::size_t max_keys)
    : clock_(clock), limit_(limit), max_keys_(std::max<std::size_t>(max_keys, 1)) {}

double KeyedRateLimiter::Refill(Bucket& b, std::chrono::steady_clock::time_point now) const {
  if (now > b.last) {
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(limit_.burst, b.tokens + elapsed * limit_.per_second);
    b.last = now;
  }
  return b.tokens;
}

void KeyedRateLimiter::MakeRoom(std::chrono::steady_clock::time_point now) {
  // A full bucket carries no information, so dropping one loses nothing. Look for one
  // among the few least recently used (bounded work per call, even under a spray of new
  // keys); failing that, drop the least recently used bucket.
  constexpr int kScan = 16;
  int scanned = 0;
  for (auto it = lru_.rbegin(); it != lru_.rend() && scanned < kScan; ++it, ++scanned) {
    auto b = buckets_.find(*it);
    if (Refill(b->second, now) >= limit_.burst) {
      lru_.erase(b->second.lru_pos);
      buckets_.erase(b);
      return;
    }
  }
  buckets_.erase(lru_.back());
  lru_.pop_back();
}

bool KeyedRateLimiter::Allow(std::string_view key, std::chrono::milliseconds* retry_after) {
  const auto now = clock_.SteadyNow();
  util::MutexLock lock(mu_);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) MakeRoom(now);
    lru_.emplace_front(key);
    it = buckets_.emplace(std::string(key), Bucket{limit_.burst, now, lru_.begin()}).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru_pos);
    Refill(it->second, now);
  }
  if (it->second.tokens < 1.0) {
    if (retry_after != nullptr) {
      const double seconds = (1.0 - it->second.tokens) / std::max(limit_.per_second, 1e-9);
      *retry_after = std::chrono::milliseconds(
          static_cast<std::int64_t>(std::clamp(std::ceil(seconds * 1000.0), 1.0, 86400e3)));
    }
    return false;
  }
  it->second.tokens -= 1.0;
  return true;
}

void KeyedRateLimiter::Refund(std::string_view key) {
  util::MutexLock lock(mu_);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) return;
  it->second.tokens = std::min(limit_.burst, it->second.tokens + 1.0);
}

std::size_t KeyedRateLimiter::size() const {
  util::MutexLock lock(mu_);
  return buckets_.size();
}

}  // namespace bluetrace::service
