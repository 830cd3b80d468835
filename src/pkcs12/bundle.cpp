// Pkcs12Bundle: choosing the leaf, ordering the chain, and the protection profile's verdict.
#include "pkcs12/bundle_impl.hpp"
#include "x509/certificate_impl.hpp"

#include <openssl/x509v3.h>

#include <algorithm>

namespace dpgcert {
namespace {

/// Whether `issuer`'s subject is `subject`'s issuer name (and they are different certificates).
bool issued(const Certificate& issuer, const Certificate& subject) {
  if (issuer == subject) return false;
  return X509_NAME_cmp(X509_get_subject_name(detail::native(issuer)),
                       X509_get_issuer_name(detail::native(subject))) == 0;
}

bool self_issued(const Certificate& c) {
  X509* x = detail::native(c);
  return X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0;
}

bool is_ca(const Certificate& c) { return X509_check_ca(detail::native(c)) != 0; }

bool safe_matches(const PrivateKey& key, const Certificate& cert) noexcept {
  try {
    return key.matches(cert);
  } catch (...) {
    detail::clear_openssl_errors();
    return false;
  }
}

std::optional<std::size_t> choose_leaf(const detail::BundleParts& parts) {
  const auto& certs = parts.certificates;
  if (parts.key) {
    std::optional<std::size_t> by_id;
    if (parts.key_local_key_id) {
      for (std::size_t i = 0; i < certs.size(); ++i) {
        if (certs[i].local_key_id == parts.key_local_key_id) {
          by_id = i;
          break;
        }
      }
      if (by_id && safe_matches(*parts.key, certs[*by_id].certificate)) return by_id;
    }
    for (std::size_t i = 0; i < certs.size(); ++i) {
      if (safe_matches(*parts.key, certs[i].certificate)) return i;
    }
    if (by_id) return by_id;
  }
  // No key, or a key that matches nothing: the one certificate that issued no other in the
  // file, if there is exactly one and it is not a CA certificate.
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < certs.size(); ++i) {
    const Certificate& c = certs[i].certificate;
    const bool issues_another = std::any_of(certs.begin(), certs.end(), [&](const Pkcs12Certificate& o) {
      return !self_issued(o.certificate) && issued(c, o.certificate);
    });
    if (issues_another) continue;
    if (found && !(certs[*found].certificate == c)) return std::nullopt;  // ambiguous
    if (!found) found = i;
  }
  if (found && is_ca(certs[*found].certificate)) return std::nullopt;
  return found;
}

std::vector<Certificate> order_chain(const std::optional<Certificate>& leaf,
                                     const std::vector<Pkcs12Certificate>& certs) {
  std::vector<Certificate> rest;
  for (const auto& c : certs) {
    if (leaf && c.certificate == *leaf) continue;
    if (std::find(rest.begin(), rest.end(), c.certificate) != rest.end()) continue;  // duplicates
    rest.push_back(c.certificate);
  }
  if (!leaf) return rest;
  std::vector<Certificate> chain;
  Certificate current = *leaf;
  while (!self_issued(current)) {
    auto next = std::find_if(rest.begin(), rest.end(), [&](const Certificate& c) { return issued(c, current); });
    if (next == rest.end()) break;
    current = *next;
    chain.push_back(current);
    rest.erase(next);
  }
  chain.insert(chain.end(), rest.begin(), rest.end());
  return chain;
}

void add_reason(Pkcs12Profile& p, std::string reason) {
  if (std::find(p.legacy_reasons.begin(), p.legacy_reasons.end(), reason) == p.legacy_reasons.end()) {
    p.legacy_reasons.push_back(std::move(reason));
  }
}

void check_low_iterations(Pkcs12Profile& p, std::uint64_t iterations, const char* what) {
  if (iterations > 0 && iterations < 2048) {
    add_reason(p, std::string(what) + " iteration count " + std::to_string(iterations) + " is below 2048");
  }
}

}  // namespace

std::uint64_t Pkcs12Profile::max_iterations() const noexcept {
  std::uint64_t m = mac ? mac->iterations : 0;
  for (const auto& c : containers) m = std::max(m, c.iterations);
  for (const auto& b : bags) m = std::max(m, b.iterations);
  return m;
}

namespace detail {

void finish_profile(Pkcs12Profile& p) {
  p.legacy_reasons.clear();
  if (p.mac) {
    if (p.mac->digest == "SHA1" || p.mac->digest == "MD5" || p.mac->digest == "MD2") {
      add_reason(p, p.mac->digest + " MAC");
    }
    check_low_iterations(p, p.mac->iterations, "MAC");
  }
  for (const auto& c : p.containers) {
    if (auto r = legacy_cipher_reason(c.encryption)) add_reason(p, *r);
    check_low_iterations(p, c.iterations, "KDF");
  }
  for (const auto& b : p.bags) {
    if (auto r = legacy_cipher_reason(b.encryption)) add_reason(p, *r);
    check_low_iterations(p, b.iterations, "KDF");
  }
  p.legacy = !p.legacy_reasons.empty();
}

Pkcs12Bundle assemble_bundle(BundleParts parts) {
  auto impl = std::make_unique<Pkcs12Bundle::Impl>();
  const auto leaf_index = choose_leaf(parts);
  if (leaf_index) impl->leaf = parts.certificates[*leaf_index].certificate;
  impl->chain = order_chain(impl->leaf, parts.certificates);
  impl->friendly_name = parts.key_friendly_name;
  if (!impl->friendly_name && leaf_index) impl->friendly_name = parts.certificates[*leaf_index].friendly_name;
  impl->key_matches = parts.key && impl->leaf && safe_matches(*parts.key, *impl->leaf);
  impl->key = std::move(parts.key);
  impl->certificates = std::move(parts.certificates);
  impl->profile = std::move(parts.profile);
  return Pkcs12Bundle(std::move(impl));
}

}  // namespace detail

Pkcs12Bundle::Pkcs12Bundle(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Pkcs12Bundle::Pkcs12Bundle(Pkcs12Bundle&&) noexcept = default;
Pkcs12Bundle& Pkcs12Bundle::operator=(Pkcs12Bundle&&) noexcept = default;
Pkcs12Bundle::~Pkcs12Bundle() = default;

const std::optional<Certificate>& Pkcs12Bundle::leaf() const noexcept { return impl_->leaf; }
const PrivateKey* Pkcs12Bundle::private_key() const noexcept { return impl_->key ? &*impl_->key : nullptr; }
const std::vector<Certificate>& Pkcs12Bundle::chain() const noexcept { return impl_->chain; }
const std::vector<Pkcs12Certificate>& Pkcs12Bundle::certificates() const noexcept { return impl_->certificates; }
const std::optional<std::string>& Pkcs12Bundle::friendly_name() const noexcept { return impl_->friendly_name; }
const Pkcs12Profile& Pkcs12Bundle::profile() const noexcept { return impl_->profile; }
bool Pkcs12Bundle::key_matches() const noexcept { return impl_->key_matches; }

Pkcs12Bundle Pkcs12Bundle::from_parts(PrivateKey key, Certificate leaf, std::vector<Certificate> chain,
                                      std::optional<std::string> friendly_name) {
  if (!key.matches(leaf)) {
    throw Error(ErrorCode::invalid_argument, "PKCS#12 bundle: the private key does not match the leaf certificate");
  }
  auto impl = std::make_unique<Impl>();
  impl->certificates.push_back({leaf, friendly_name, std::nullopt});
  for (const auto& c : chain) impl->certificates.push_back({c, std::nullopt, std::nullopt});
  impl->leaf = std::move(leaf);
  impl->chain = std::move(chain);
  impl->friendly_name = std::move(friendly_name);
  impl->key = std::move(key);
  impl->key_matches = true;
  return Pkcs12Bundle(std::move(impl));
}

}  // namespace dpgcert
