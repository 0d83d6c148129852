#include "bluetrace/util/digest.hpp"

#include <openssl/evp.h>

#include <cstdlib>

namespace bluetrace::util {
namespace {

constexpr std::string_view kFingerprintPrefix = "SHA256:";

bool IsUpperHex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

}  // namespace

Result<Sha256Digest> Sha256(std::span<const std::uint8_t> data) {
  Sha256Digest out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != out.size()) {
    return Internal("computing SHA-256 failed");
  }
  return out;
}

Result<Sha256Digest> Sha256(std::string_view data) {
  return Sha256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data.data()),
                                              data.size()));
}

std::string Sha256Hex(std::string_view data) {
  const Result<Sha256Digest> md = Sha256(data);
  if (!md.ok()) std::abort();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * md->size());
  for (const std::uint8_t b : *md) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::string Sha256Fingerprint(const Sha256Digest& digest) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out(kFingerprintPrefix);
  out.reserve(kFingerprintPrefix.size() + digest.size() * 3 - 1);
  for (std::size_t i = 0; i < digest.size(); ++i) {
    if (i != 0) out += ':';
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0f];
  }
  return out;
}

bool IsSha256Fingerprint(std::string_view fp) {
  if (fp.size() != kFingerprintPrefix.size() + 32 * 3 - 1 ||
      fp.substr(0, kFingerprintPrefix.size()) != kFingerprintPrefix) {
    return false;
  }
  const std::string_view hex = fp.substr(kFingerprintPrefix.size());
  for (std::size_t i = 0; i < hex.size(); ++i) {
    const bool ok = i % 3 == 2 ? hex[i] == ':' : IsUpperHex(hex[i]);
    if (!ok) return false;
  }
  return true;
}

}  // namespace bluetrace::util
