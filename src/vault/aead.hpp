// AES-256-GCM in the vault's sealed format. Private to the vault layer.
#pragma once

#include <dpgcert/secret.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert::vault::aead {

inline constexpr std::byte format_version{1};
inline constexpr std::size_t nonce_size = 12;
inline constexpr std::size_t tag_size = 16;
/// Bytes a sealed value has beyond its plaintext: version, nonce, tag.
inline constexpr std::size_t overhead = 1 + nonce_size + tag_size;

/// The associated data of one purpose: "dpgcert-vault-v1/<label>/<context>". A wrapped data key
/// and the data it encrypts bind the same context under different labels, so one can never stand
/// in for the other.
[[nodiscard]] std::string associated_data(std::string_view label, std::string_view context);

/// AES-256-GCM of `plaintext` under `key` (32 bytes) with a fresh random nonce:
/// version || nonce || ciphertext || tag. Throws Error(internal) when Botan fails.
[[nodiscard]] std::vector<std::byte> gcm_seal(std::span<const std::byte> key, std::span<const std::byte> plaintext,
                                              std::string_view ad);

/// Opens gcm_seal()'s output. Returns nullopt when it does not authenticate; throws
/// Error(malformed) for a wrong format (`what` names the value in the message).
[[nodiscard]] std::optional<SecretBytes> gcm_open(std::span<const std::byte> key, std::span<const std::byte> sealed,
                                                  std::string_view ad, std::string_view what);

}  // namespace dpgcert::vault::aead
