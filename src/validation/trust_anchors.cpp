// Trust anchors: the certificates a validation trusts, and their OpenSSL store built once.
#include "validation/validation_impl.hpp"
#include "x509/certificate_impl.hpp"

namespace dpgcert {

X509_STORE* TrustAnchors::Impl::store() const {
  std::call_once(once_, [this] {
    detail::X509StorePtr s(X509_STORE_new());
    if (!s) detail::throw_openssl(ErrorCode::internal, "validation: cannot create an X509_STORE");
    for (const auto& c : anchors) {
      // X509_STORE_add_cert takes its own reference: the parsed X509 is shared, not re-parsed.
      // A duplicate is ignored by OpenSSL 3.
      if (X509_STORE_add_cert(s.get(), detail::native(c)) != 1) {
        detail::throw_openssl(ErrorCode::internal, "validation: cannot add a trust anchor to the store");
      }
    }
    for (const auto& c : anchors) by_pointer_.emplace(detail::native(c), &c);
    for (const auto& c : intermediates) by_pointer_.emplace(detail::native(c), &c);
    detail::clear_openssl_errors();
    store_ = std::move(s);
  });
  return store_.get();
}

const Certificate* TrustAnchors::Impl::find(const X509* x) const {
  (void)store();
  const auto it = by_pointer_.find(x);
  return it == by_pointer_.end() ? nullptr : it->second;
}

TrustAnchors::TrustAnchors() : impl_(std::make_shared<const Impl>()) {}

TrustAnchors TrustAnchors::from_catalogue(const oces::Catalogue& catalogue, std::optional<oces::Environment> environment,
                                          std::optional<oces::Generation> generation) {
  auto impl = std::make_shared<Impl>();
  impl->anchors = catalogue.anchors(generation, environment);
  impl->intermediates = catalogue.intermediates(generation, environment);
  return TrustAnchors(std::move(impl));
}

const TrustAnchors& TrustAnchors::oces_builtin() {
  static const TrustAnchors instance = from_catalogue(oces::Catalogue::builtin());
  return instance;
}

TrustAnchors TrustAnchors::from_certificates(std::vector<Certificate> anchors, std::vector<Certificate> intermediates) {
  auto impl = std::make_shared<Impl>();
  impl->anchors = std::move(anchors);
  impl->intermediates = std::move(intermediates);
  return TrustAnchors(std::move(impl));
}

TrustAnchors TrustAnchors::from_files(std::span<const std::filesystem::path> paths, const Context& ctx) {
  return from_certificates(load_certificate_files(paths, ctx));
}

const std::vector<Certificate>& TrustAnchors::certificates() const noexcept { return impl_->anchors; }
const std::vector<Certificate>& TrustAnchors::intermediates() const noexcept { return impl_->intermediates; }
bool TrustAnchors::empty() const noexcept { return impl_->anchors.empty(); }

}  // namespace dpgcert
