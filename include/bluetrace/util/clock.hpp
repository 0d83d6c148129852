// Clock: the one source of time for everything that depends on it (TempID validity,
// lockout windows, rate limits, deadlines, retention).
//
// Wall time is whole seconds since the Unix epoch, UTC; monotonic time is for measuring
// intervals only. Production code takes a `Clock&` so tests and simulations can move time
// themselves instead of sleeping. Implementations are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace bluetrace::util {

class Clock {
 public:
  virtual ~Clock() = default;

  // Seconds since 1970-01-01T00:00:00Z.
  virtual std::int64_t NowUnixSeconds() const = 0;

  // A monotonic reading for intervals; never goes backwards.
  virtual std::chrono::steady_clock::time_point SteadyNow() const = 0;
};

// The machine's clocks.
class SystemClock final : public Clock {
 public:
  std::int64_t NowUnixSeconds() const override;
  std::chrono::steady_clock::time_point SteadyNow() const override;

  // A process-wide instance.
  static SystemClock& Instance();
};

// A clock that only moves when told to: tests, simulations and the protocol simulator's
// "time travel" mode. Both readings advance together.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t unix_seconds = 1'600'000'000) : unix_(unix_seconds) {}

  std::int64_t NowUnixSeconds() const override { return unix_.load(); }
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(steady_ns_.load()));
  }

  void AdvanceSeconds(std::int64_t s) {
    unix_ += s;
    steady_ns_ += s * 1'000'000'000;
  }
  void Advance(std::chrono::nanoseconds d) {
    steady_ns_ += d.count();
    unix_ += std::chrono::duration_cast<std::chrono::seconds>(d).count();
  }
  void SetUnixSeconds(std::int64_t s) { unix_ = s; }

 private:
  std::atomic<std::int64_t> unix_;
  std::atomic<std::int64_t> steady_ns_{0};
};

}  // namespace bluetrace::util
