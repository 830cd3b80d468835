#include "core/openssl_util.hpp"

#include <dpgcert/context.hpp>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/provider.h>

namespace dpgcert {

struct Context::Impl {
  Limits limits;
  OSSL_LIB_CTX* libctx = nullptr;
  OSSL_PROVIDER* default_provider = nullptr;
  OSSL_PROVIDER* legacy_provider = nullptr;
  // Certificates, keys, CRLs and path validation: the default provider only (see context.hpp).
  OSSL_LIB_CTX* x509_libctx = nullptr;
  OSSL_PROVIDER* x509_default_provider = nullptr;

  ~Impl() {
    if (x509_default_provider != nullptr) OSSL_PROVIDER_unload(x509_default_provider);
    if (x509_libctx != nullptr) OSSL_LIB_CTX_free(x509_libctx);
    if (legacy_provider != nullptr) OSSL_PROVIDER_unload(legacy_provider);
    if (default_provider != nullptr) OSSL_PROVIDER_unload(default_provider);
    if (libctx != nullptr) OSSL_LIB_CTX_free(libctx);
  }
};

Context::Context(Limits limits, bool require_legacy) : impl_(std::make_unique<Impl>()) {
  impl_->limits = limits;
  impl_->libctx = OSSL_LIB_CTX_new();
  if (impl_->libctx == nullptr) detail::throw_openssl(ErrorCode::internal, "cannot create an OpenSSL library context");
  // Both must be loaded explicitly: loading any provider turns off the automatic default one.
  impl_->legacy_provider = OSSL_PROVIDER_load(impl_->libctx, "legacy");
  if (impl_->legacy_provider == nullptr) {
    if (require_legacy) {
      detail::throw_openssl(ErrorCode::unsupported,
                            "OpenSSL's legacy provider (needed for RC2/3DES PKCS#12) cannot be loaded");
    }
    detail::clear_openssl_errors();
  }
  impl_->default_provider = OSSL_PROVIDER_load(impl_->libctx, "default");
  if (impl_->default_provider == nullptr) {
    detail::throw_openssl(ErrorCode::internal, "OpenSSL's default provider cannot be loaded");
  }
  impl_->x509_libctx = OSSL_LIB_CTX_new();
  if (impl_->x509_libctx == nullptr) detail::throw_openssl(ErrorCode::internal, "cannot create an OpenSSL library context");
  impl_->x509_default_provider = OSSL_PROVIDER_load(impl_->x509_libctx, "default");
  if (impl_->x509_default_provider == nullptr) {
    detail::throw_openssl(ErrorCode::internal, "OpenSSL's default provider cannot be loaded");
  }
}

Context::~Context() = default;
Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;

const Context& Context::shared() {
  static const Context instance;
  return instance;
}

const Limits& Context::limits() const noexcept { return impl_->limits; }
bool Context::legacy_available() const noexcept { return impl_->legacy_provider != nullptr; }
void* Context::native_handle() const noexcept { return impl_->libctx; }
void* Context::x509_native_handle() const noexcept { return impl_->x509_libctx; }

namespace detail {

std::string take_openssl_error() {
  unsigned long code = ERR_get_error();
  std::string text;
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    text = buf;
  }
  ERR_clear_error();
  return text;
}

void clear_openssl_errors() noexcept { ERR_clear_error(); }

void throw_openssl(ErrorCode code, const std::string& what) {
  std::string reason = take_openssl_error();
  throw Error(code, reason.empty() ? what : what + " (" + reason + ")");
}

}  // namespace detail
}  // namespace dpgcert
