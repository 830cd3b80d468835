// Private helpers shared by the oces layer: attribute lookup, key identifiers, CA name heuristics.
#pragma once

#include <dpgcert/oces.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace dpgcert::oces::detail {

inline constexpr std::string_view oid_common_name = "2.5.4.3";
inline constexpr std::string_view oid_organisation = "2.5.4.10";
inline constexpr std::string_view oid_organisational_unit = "2.5.4.11";
inline constexpr std::string_view oid_serial_number = "2.5.4.5";
inline constexpr std::string_view oid_organization_identifier = "2.5.4.97";
inline constexpr std::string_view oid_email_address = "1.2.840.113549.1.9.1";

/// The first value of the attribute with this dotted OID, or nullptr. Owned by `name`.
[[nodiscard]] const std::string* find_attribute(const DistinguishedName& name, std::string_view oid) noexcept;

/// ASCII case-insensitive comparisons.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;
[[nodiscard]] bool istarts_with(std::string_view text, std::string_view prefix) noexcept;
[[nodiscard]] bool icontains(std::string_view text, std::string_view needle) noexcept;

/// Whether an OU value marks a test CA: "Test", or "Test" followed by a non-letter ("Test - cti").
[[nodiscard]] bool is_test_unit(std::string_view ou) noexcept;

/// The subject / authority key identifier of a certificate (empty when absent). The bytes are owned
/// by the certificate.
[[nodiscard]] std::span<const std::byte> subject_key_id(const Certificate& cert) noexcept;
[[nodiscard]] std::span<const std::byte> authority_key_id(const Certificate& cert) noexcept;

/// What a CA's name says about it (see CatalogueEntry::describe).
struct CaGuess {
  Generation generation = Generation::none;
  Environment environment = Environment::unknown;
};
[[nodiscard]] CaGuess guess_ca(const DistinguishedName& subject) noexcept;

}  // namespace dpgcert::oces::detail
