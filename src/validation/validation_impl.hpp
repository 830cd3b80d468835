// Private: what a Crl and a TrustAnchors hold, and helpers shared by the validation layer.
#pragma once

#include "core/openssl_util.hpp"

#include <dpgcert/validation.hpp>

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <filesystem>
#include <mutex>
#include <unordered_map>

namespace dpgcert {

namespace detail {
using X509CrlPtr = Owned<X509_CRL, X509_CRL_free>;
using X509StorePtr = Owned<X509_STORE, X509_STORE_free>;
using X509StoreCtxPtr = Owned<X509_STORE_CTX, X509_STORE_CTX_free>;

/// A UTC time from an ASN1_TIME (nullopt when absent or unreadable).
[[nodiscard]] std::optional<Time> asn1_time_opt(const ASN1_TIME* t);
/// Big-endian magnitude of an ASN1_INTEGER without leading zeros (one 0 byte for zero).
[[nodiscard]] std::vector<std::byte> asn1_integer_bytes(const ASN1_INTEGER* i);

struct FoundFile {
  std::filesystem::path path;
  bool in_folder = false;  ///< Found by listing a folder (not named by the caller).
};
/// The files a list of paths stands for: files as given; for folders, their regular files whose
/// extension (lowercased) is one of `extensions`, in name order (hidden files skipped). Throws
/// Error(io) for a path that does not exist or a folder that cannot be listed.
[[nodiscard]] std::vector<FoundFile> expand_paths(std::span<const std::filesystem::path> paths,
                                                  std::initializer_list<std::string_view> extensions);
/// Crl::from_der() and load_crls() with another size limit than Limits::max_input_bytes: fetched
/// and stored CRLs are bounded by Limits::max_crl_bytes.
[[nodiscard]] Crl crl_from_der(std::span<const std::byte> der, std::size_t limit, const Context& ctx);
[[nodiscard]] std::vector<Crl> load_crls_up_to(std::span<const std::byte> data, std::size_t limit, const Context& ctx);
/// The extension of a path, lowercased (".pem").
[[nodiscard]] std::string lower_extension(const std::filesystem::path& p);
}  // namespace detail

struct Crl::Impl {
  detail::X509CrlPtr crl;        ///< Parsed in the context's library context; never modified.
  std::vector<std::byte> der;
  DistinguishedName issuer;      ///< Decoded at parse time.
  Time this_update{};
  std::optional<Time> next_update;
  bool delta = false;
  mutable std::once_flag revoked_once;
  mutable std::vector<RevokedCertificate> revoked;
};

struct TrustAnchors::Impl {
  std::vector<Certificate> anchors;
  std::vector<Certificate> intermediates;

  /// The X509_STORE holding the anchors (up-referenced X509s, nothing re-parsed), built on first
  /// use. X509_STORE locks internally, so one store serves concurrent validations.
  [[nodiscard]] X509_STORE* store() const;
  /// The Certificate behind an X509* of the anchors or intermediates, if it is one of them.
  [[nodiscard]] const Certificate* find(const X509* x) const;

 private:
  mutable std::once_flag once_;
  mutable detail::X509StorePtr store_;
  mutable std::unordered_map<const X509*, const Certificate*> by_pointer_;
};

}  // namespace dpgcert
