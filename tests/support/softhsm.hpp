// SoftHSM2 tokens for tests: a private SOFTHSM2_CONF for the process (SoftHSM reads it once, when
// the module is first initialised) and a fresh token with a unique label per test.
#pragma once

#include "support/test_support.hpp"

#include <filesystem>
#include <optional>
#include <span>
#include <string>

namespace dpgcert::test {

/// The user PIN of every test token.
inline constexpr const char* kTestPin = "dpgcert-test-pin";

/// The SoftHSM2 module, or nothing when softhsm2 is not installed (the tests then skip, saying so).
std::optional<std::filesystem::path> softhsm_module();

/// A new initialised token (user PIN kTestPin, SO PIN "12345678") in this process's SoftHSM2
/// configuration, with a label unique to the process and `name`. The tokens stay until the process
/// ends (its SoftHSM2 folder is removed then).
class SoftHsmToken {
 public:
  explicit SoftHsmToken(const std::string& name);
  SoftHsmToken(const SoftHsmToken&) = delete;
  SoftHsmToken& operator=(const SoftHsmToken&) = delete;
  ~SoftHsmToken();

  [[nodiscard]] const std::string& label() const noexcept { return label_; }
  [[nodiscard]] const std::string& serial() const noexcept { return serial_; }
  /// "pkcs11:token=<label>" (SoftHSM is found through p11-kit's registered modules).
  [[nodiscard]] std::string uri() const { return "pkcs11:token=" + label_; }
  /// The SOFTHSM2_CONF this process uses, for child processes.
  [[nodiscard]] static std::filesystem::path config();

 /// What the token says about the key object with label `object_label` and class `klass`
  /// (CKO_*), read through PKCS#11 by the test itself after logging in.
  struct KeyFacts {
    bool found = false;
    bool sensitive = false;
    bool extractable = true;
    unsigned long value_rv = 0;  ///< C_GetAttributeValue's return for `secret_attribute`.
  };
  [[nodiscard]] KeyFacts key_facts(const std::string& object_label, unsigned long klass,
                                   unsigned long secret_attribute) const;

  /// Puts an AES-256 secret key with the given 32-byte value on the token under `object_label`
  /// (token object, private, sensitive, not extractable, encrypt/decrypt): how a test learns the
  /// bytes of a token key, to look for them where they must never be. Throws std::runtime_error.
  void create_aes_key(const std::string& object_label, std::span<const std::byte> value) const;

  /// Initialises the free slot's token with `label` (SO PIN "12345678", user PIN kTestPin)
  /// through the PKCS#11 API of this process; returns its serial.
  static std::string init_token(const std::string& label);

 private:
  std::string label_;
  std::string serial_;
};

/// Skips the current test case (a message, no failure) when SoftHSM2 is missing.
#define DPGCERT_REQUIRE_SOFTHSM()                                                  \
  do {                                                                             \
    if (!::dpgcert::test::softhsm_module()) {                                      \
      MESSAGE("skipped: softhsm2 is not installed (apt-get install softhsm2)");    \
      return;                                                                      \
    }                                                                              \
  } while (false)

}  // namespace dpgcert::test
