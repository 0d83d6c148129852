#include "bluetrace/service/console.hpp"

namespace bluetrace::service {

void StreamConsole::Print(std::string_view block) {
  util::MutexLock lock(mu_);
  std::fwrite(block.data(), 1, block.size(), stream_);
  std::fflush(stream_);
}

void CapturingConsole::Print(std::string_view block) {
  util::MutexLock lock(mu_);
  text_.append(block);
}

std::string CapturingConsole::Text() const {
  util::MutexLock lock(mu_);
  return text_;
}

}  // namespace bluetrace::service
