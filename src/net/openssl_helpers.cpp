#include "openssl_helpers.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <array>
#include <climits>

namespace bluetrace::net::detail {

std::string TakeOpenSslErrors() {
  std::string text;
  for (unsigned long err = ERR_get_error(); err != 0; err = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(err, buf.data(), buf.size());
    if (!text.empty()) text += "; ";
    text += buf.data();
  }
  return text.empty() ? std::string("unknown OpenSSL error") : text;
}

util::Status OpenSslFailure(util::StatusCode code, std::string_view what) {
  return {code, std::string(what) + ": " + TakeOpenSslErrors()};
}

BioPtr MemoryBio(std::string_view bytes) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) return nullptr;
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

std::string BioContents(BIO* bio) {
  // BIO_get_mem_data is a macro with a C cast; this is its expansion.
  char* data = nullptr;
  const long n = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data);
  if (n <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(n));
}

util::Result<X509Ptr> ParsePemCertificate(std::string_view pem) {
  ERR_clear_error();
  BioPtr bio = MemoryBio(pem);
  if (!bio) return util::InvalidArgument("certificate PEM too large or out of memory");
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    return OpenSslFailure(util::StatusCode::kInvalidArgument, "no PEM certificate found");
  }
  return cert;
}

}  // namespace bluetrace::net::detail
