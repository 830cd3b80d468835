// Pkcs12Bundle: choosing the leaf, ordering the chain, and the protection profile's verdict.
#include "core/der.hpp"
#include "pkcs12/bundle_impl.hpp"
#include "x509/certificate_impl.hpp"
#include "x509/name_util.hpp"

#include <openssl/x509v3.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dpgcert {
namespace {

using X509NamePtr = detail::Owned<X509_NAME, X509_NAME_free>;

/// One certificate of a bundle with its names for chain building. Names are read from the
/// certificate's DER without parsing it (so certificates of a loaded file stay unparsed) and
/// compared as OpenSSL's X509_NAME_cmp does (canonical form: case, spaces and string types
/// folded): by detail::compare_der_names where it can decide, else by parsing them with OpenSSL.
class Node {
 public:
  explicit Node(Certificate c) : cert_(std::move(c)), fields_(detail::certificate_fields(cert_.der())) {}
  [[nodiscard]] const Certificate& cert() const noexcept { return cert_; }

  enum Which { subject = 0, issuer = 1 };

  /// Whether name `a` of this certificate equals name `b` of `other`.
  [[nodiscard]] bool same(Which a, const Node& other, Which b) const {
    if (fields_ && other.fields_) {
      const detail::NameVerdict v = detail::compare_der_names(raw(a), other.raw(b));
      if (v != detail::NameVerdict::unknown) return v == detail::NameVerdict::equal;
    }
    const X509_NAME* x = name(a);
    const X509_NAME* y = other.name(b);
    return x != nullptr && y != nullptr && X509_NAME_cmp(x, y) == 0;
  }

  /// Whether this certificate issued `other` (by names; a certificate does not issue itself).
  [[nodiscard]] bool issued(const Node& other) const {
    return !(cert_ == other.cert_) && same(subject, other, issuer);
  }
  [[nodiscard]] bool self_issued() const { return same(subject, *this, issuer); }

 private:
  [[nodiscard]] std::span<const std::byte> raw(Which w) const noexcept {
    return w == subject ? fields_->subject : fields_->issuer;
  }
  [[nodiscard]] const X509_NAME* name(Which w) const {
    if (!fields_) {
      X509* x = detail::native(cert_);
      return w == subject ? X509_get_subject_name(x) : X509_get_issuer_name(x);
    }
    X509NamePtr& slot = parsed_[w];
    if (!slot) {
      const auto r = raw(w);
      const auto* p = reinterpret_cast<const unsigned char*>(r.data());
      slot.reset(d2i_X509_NAME(nullptr, &p, static_cast<long>(r.size())));
      if (!slot) detail::clear_openssl_errors();
    }
    return slot.get();
  }

  Certificate cert_;
  std::optional<detail::CertificateFields> fields_;  // spans into cert_'s DER (shared, stable)
  mutable X509NamePtr parsed_[2];
};

bool is_ca(const Certificate& c) { return X509_check_ca(detail::native(c)) != 0; }

bool safe_matches(const PrivateKey& key, const Certificate& cert) noexcept {
  try {
    return key.matches(cert);
  } catch (...) {
    detail::clear_openssl_errors();
    return false;
  }
}

struct LeafChoice {
  std::optional<std::size_t> index;
  bool key_matches = false;
};

LeafChoice choose_leaf(const detail::BundleParts& parts, const std::vector<Node>& nodes) {
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
      if (by_id && safe_matches(*parts.key, certs[*by_id].certificate)) return {by_id, true};
    }
    for (std::size_t i = 0; i < certs.size(); ++i) {
      if (safe_matches(*parts.key, certs[i].certificate)) return {i, true};
    }
    if (by_id) return {by_id, false};
  }
  // No key, or a key that matches nothing: the one certificate that issued no other in the
  // file, if there is exactly one and it is not a CA certificate.
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const Node& c = nodes[i];
    const bool issues_another =
        std::any_of(nodes.begin(), nodes.end(), [&](const Node& o) { return !o.self_issued() && c.issued(o); });
    if (issues_another) continue;
    if (found && !(nodes[*found].cert() == c.cert())) return {};  // ambiguous
    if (!found) found = i;
  }
  if (found && is_ca(nodes[*found].cert())) return {};
  return {found, false};
}

std::vector<Certificate> order_chain(std::optional<std::size_t> leaf, const std::vector<Node>& nodes) {
  std::vector<const Node*> rest;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const Node& c = nodes[i];
    if (leaf && c.cert() == nodes[*leaf].cert()) continue;
    if (std::any_of(rest.begin(), rest.end(), [&](const Node* r) { return r->cert() == c.cert(); })) continue;  // duplicates
    rest.push_back(&c);
  }
  std::vector<Certificate> chain;
  if (leaf) {
    const Node* current = &nodes[*leaf];
    while (!current->self_issued()) {
      auto next = std::find_if(rest.begin(), rest.end(), [&](const Node* c) { return c->issued(*current); });
      if (next == rest.end()) break;
      current = *next;
      chain.push_back(current->cert());
      rest.erase(next);
    }
  }
  for (const Node* r : rest) chain.push_back(r->cert());
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
  std::vector<Node> nodes;
  nodes.reserve(parts.certificates.size());
  for (const auto& c : parts.certificates) nodes.emplace_back(c.certificate);
  const LeafChoice choice = choose_leaf(parts, nodes);
  const auto leaf_index = choice.index;
  if (leaf_index) impl->leaf = parts.certificates[*leaf_index].certificate;
  impl->chain = order_chain(leaf_index, nodes);
  impl->friendly_name = parts.key_friendly_name;
  if (!impl->friendly_name && leaf_index) impl->friendly_name = parts.certificates[*leaf_index].friendly_name;
  // choose_leaf already checked the key against the leaf it chose (never true without both).
  impl->key_matches = parts.key && impl->leaf && choice.key_matches;
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
