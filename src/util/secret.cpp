#include "bluetrace/util/secret.hpp"

#include <openssl/crypto.h>

namespace bluetrace::util {

void WipeString(std::string& s) {
  // Wipe the full capacity: a shorter string may have left bytes past size().
  s.resize(s.capacity());
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

SecretString::SecretString(std::string_view s) {
  // Reserve first so the bytes are written once, into the buffer we will wipe.
  value_.reserve(s.size());
  value_.assign(s.data(), s.size());
}

SecretString::SecretString(std::string&& s) : SecretString(std::string_view(s)) { WipeString(s); }

SecretString::~SecretString() { WipeString(value_); }

SecretString::SecretString(SecretString&& other) noexcept : value_(std::move(other.value_)) {
  WipeString(other.value_);
}

SecretString& SecretString::operator=(SecretString&& other) noexcept {
  if (this != &other) {
    WipeString(value_);
    value_ = std::move(other.value_);
    WipeString(other.value_);
  }
  return *this;
}

void SecretString::clear() { WipeString(value_); }

}  // namespace bluetrace::util
