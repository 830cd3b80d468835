// Private helpers for the OpenSSL boundary: owning pointers and error translation.
#pragma once

#include <dpgcert/context.hpp>
#include <dpgcert/error.hpp>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace dpgcert::detail {

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const noexcept {
    Fn(p);
  }
};
template <typename T, auto Fn>
using Owned = std::unique_ptr<T, Deleter<Fn>>;

using BioPtr = Owned<BIO, BIO_free_all>;
using X509Ptr = Owned<X509, X509_free>;
using EvpPkeyPtr = Owned<EVP_PKEY, EVP_PKEY_free>;
using EvpMdCtxPtr = Owned<EVP_MD_CTX, EVP_MD_CTX_free>;
using EvpMdPtr = Owned<EVP_MD, EVP_MD_free>;

/// The OSSL_LIB_CTX of a dpgcert Context that holds the legacy provider: PKCS#12 PBE and MACs only.
inline OSSL_LIB_CTX* libctx(const Context& ctx) noexcept {
  return static_cast<OSSL_LIB_CTX*>(ctx.native_handle());
}

/// The default-only OSSL_LIB_CTX of a dpgcert Context: certificates, keys, CRLs, path validation.
/// Every X509 and EVP_PKEY dpgcert makes lives here, so operations between them never cross contexts.
inline OSSL_LIB_CTX* x509_libctx(const Context& ctx) noexcept {
  return static_cast<OSSL_LIB_CTX*>(ctx.x509_native_handle());
}

/// The reason text of the oldest OpenSSL error on this thread's queue (empty if none), and
/// clears the queue. Never contains secrets: OpenSSL's messages name algorithms, not data.
std::string take_openssl_error();

/// Clears this thread's OpenSSL error queue.
void clear_openssl_errors() noexcept;

/// Throws Error(code, what + ": " + openssl reason) and clears the error queue.
[[noreturn]] void throw_openssl(ErrorCode code, const std::string& what);

}  // namespace dpgcert::detail
