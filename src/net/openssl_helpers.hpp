// Private helpers of the net layer: unique_ptr aliases that free OpenSSL objects, and the
// conversion of OpenSSL's error queue into a util::Status. Not installed, not public:
// everything above net/ sees only Status values and PEM/DER bytes.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

#include "bluetrace/util/status.hpp"

namespace bluetrace::net::detail {

template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const { Free(p); }
};

// BIO_free returns int, so it cannot be used as the template argument directly.
inline void FreeBio(BIO* b) { BIO_free(b); }

using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO, FreeBio>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509, X509_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using EvpPkeyCtxPtr =
    std::unique_ptr<EVP_PKEY_CTX, OpenSslDeleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using X509ExtensionPtr =
    std::unique_ptr<X509_EXTENSION, OpenSslDeleter<X509_EXTENSION, X509_EXTENSION_free>>;
using GeneralNamesPtr =
    std::unique_ptr<GENERAL_NAMES, OpenSslDeleter<GENERAL_NAMES, GENERAL_NAMES_free>>;
using GeneralNamePtr =
    std::unique_ptr<GENERAL_NAME, OpenSslDeleter<GENERAL_NAME, GENERAL_NAME_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BIGNUM, BN_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE, X509_STORE_free>>;
using X509StoreCtxPtr =
    std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<X509_STORE_CTX, X509_STORE_CTX_free>>;

// Drains OpenSSL's error queue of this thread into one line: every queued error as
// ERR_error_string_n prints it, joined by "; ". "unknown OpenSSL error" when empty.
std::string TakeOpenSslErrors();

// A Status "<what>: <queued OpenSSL errors>" (the queue is drained).
util::Status OpenSslFailure(util::StatusCode code, std::string_view what);

// A read-only memory BIO over `bytes` (which must outlive it); null when `bytes` is larger
// than an int can describe or allocation fails.
BioPtr MemoryBio(std::string_view bytes);

// Everything written to a memory BIO so far.
std::string BioContents(BIO* bio);

// Reads the first PEM certificate of `pem`; kInvalidArgument when there is none.
util::Result<X509Ptr> ParsePemCertificate(std::string_view pem);

}  // namespace bluetrace::net::detail
