// SecretString: a string for passwords and keys that is wiped (OPENSSL_cleanse) when it
// is destroyed, cleared or overwritten, so secrets do not linger in freed memory. It never
// prints itself. Move-only.
#pragma once

#include <string>
#include <string_view>

namespace bluetrace::util {

class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string_view s);
  explicit SecretString(const char* s) : SecretString(std::string_view(s)) {}
  // Takes the bytes and wipes the source.
  explicit SecretString(std::string&& s);
  ~SecretString();

  SecretString(SecretString&& other) noexcept;
  SecretString& operator=(SecretString&& other) noexcept;
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;

  std::string_view view() const { return value_; }
  std::size_t size() const { return value_.size(); }
  bool empty() const { return value_.empty(); }
  void clear();

  friend bool operator==(const SecretString& a, const SecretString& b) {
    return a.value_ == b.value_;
  }

 private:
  std::string value_;
};

// Wipes the whole capacity of a std::string, then empties it.
void WipeString(std::string& s);

}  // namespace bluetrace::util
