#include "bluetrace/service/upload_code.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstdint>
#include <vector>

namespace bluetrace::service {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string Hex(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

util::Result<util::SecretString> GenerateUploadCode(util::Random& random) {
  std::string code;
  for (std::size_t i = 0; i < kUploadCodeLength; ++i) {
    BLUETRACE_ASSIGN_OR_RETURN(const std::uint64_t n,
                               util::UniformBelow(random, kUploadCodeAlphabet.size()));
    code += kUploadCodeAlphabet[n];
  }
  return util::SecretString(std::move(code));
}

std::string FormatUploadCode(std::string_view code) {
  const std::size_t half = code.size() / 2;
  return std::string(code.substr(0, half)) + "-" + std::string(code.substr(half));
}

util::Result<util::SecretString> NormalizeUploadCode(std::string_view typed) {
  std::string code;
  for (char c : typed) {
    if (c == ' ' || c == '-' || c == '\t') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (kUploadCodeAlphabet.find(c) == std::string_view::npos || code.size() == kUploadCodeLength) {
      util::WipeString(code);
      return util::InvalidArgument("an upload code is " + std::to_string(kUploadCodeLength) +
                                   " characters of " + std::string(kUploadCodeAlphabet));
    }
    code += c;
  }
  if (code.size() != kUploadCodeLength) {
    util::WipeString(code);
    return util::InvalidArgument("an upload code is " + std::to_string(kUploadCodeLength) +
                                 " characters of " + std::string(kUploadCodeAlphabet));
  }
  return util::SecretString(std::move(code));
}

util::Result<std::string> UploadCodeDigest(std::string_view key, std::string_view phone,
                                           std::string_view code) {
  std::string message;
  message.reserve(phone.size() + 1 + code.size());
  message.append(phone);
  message += '\n';
  message.append(code);
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  const bool ok = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       mac.data(), &len) != nullptr &&
                  len == 32;
  util::WipeString(message);
  if (!ok) return util::Internal("computing HMAC-SHA256 failed");
  std::string out = Hex(std::span<const std::uint8_t>(mac.data(), len));
  OPENSSL_cleanse(mac.data(), mac.size());
  return out;
}

util::Result<util::SecretString> LoadUploadCodeKey(store::FileSystem& fs, const std::string& path,
                                                   util::Random& random, bool create) {
  BLUETRACE_ASSIGN_OR_RETURN(const bool exists, fs.Exists(path));
  if (!exists) {
    if (!create) return util::NotFound("the upload code key " + path + " does not exist");
    std::array<std::uint8_t, kUploadCodeKeyBytes> bytes{};
    BLUETRACE_RETURN_IF_ERROR(random.Fill(bytes));
    std::string text = Hex(bytes) + "\n";
    OPENSSL_cleanse(bytes.data(), bytes.size());
    util::Status written = fs.ReplaceFileAtomically(path, text, 0600);
    util::WipeString(text);
    BLUETRACE_RETURN_IF_ERROR(written.WithContext("creating the upload code key"));
  }
  BLUETRACE_ASSIGN_OR_RETURN(const mode_t mode, fs.FileMode(path));
  if ((mode & 077) != 0) {
    return util::PermissionDenied("the upload code key " + path +
                                  " must be readable by its owner only (chmod 600)");
  }
  BLUETRACE_ASSIGN_OR_RETURN(std::string text, fs.ReadFile(path, 1024));
  const std::size_t eol = text.find_first_of("\r\n");
  const std::string_view key = std::string_view(text).substr(0, eol);
  if (key.size() != 2 * kUploadCodeKeyBytes || !IsLowerHex(key)) {
    util::WipeString(text);
    return util::InvalidArgument("the upload code key " + path +
                                 " must hold 64 lower-case hex digits");
  }
  util::SecretString out(key);
  util::WipeString(text);
  return out;
}

}  // namespace bluetrace::service
