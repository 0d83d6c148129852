// Deterministic Random implementations for tests; thread-safe like every util::Random.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "bluetrace/util/random.hpp"

namespace bluetrace::test {

// Hands out the given bytes in order; fails with kUnavailable once they run out.
class ScriptedRandom final : public util::Random {
 public:
  explicit ScriptedRandom(std::vector<std::uint8_t> bytes) : bytes_(std::move(bytes)) {}
  util::Status Fill(std::span<std::uint8_t> out) override {
    std::lock_guard lock(mu_);
    if (bytes_.size() - pos_ < out.size()) return util::Unavailable("scripted random exhausted");
    for (auto& b : out) b = bytes_[pos_++];
    return util::Status::Ok();
  }
  std::size_t consumed() const {
    std::lock_guard lock(mu_);
    return pos_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

// A seeded xorshift generator: reproducible streams of arbitrary length.
class SeededRandom final : public util::Random {
 public:
  explicit SeededRandom(std::uint64_t seed) : state_(seed ? seed : 0x9e3779b97f4a7c15ull) {}
  util::Status Fill(std::span<std::uint8_t> out) override {
    std::lock_guard lock(mu_);
    for (auto& b : out) {
      state_ ^= state_ << 13;
      state_ ^= state_ >> 7;
      state_ ^= state_ << 17;
      b = static_cast<std::uint8_t>(state_ >> 56);
    }
    return util::Status::Ok();
  }

 private:
  std::mutex mu_;
  std::uint64_t state_;
};

}  // namespace bluetrace::test
