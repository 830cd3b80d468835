// The "pkcs11" key wrapper kind: a master key on a PKCS#11 token (private to the vault layer).
#pragma once

#include <dpgcert/key_wrapper.hpp>

namespace dpgcert::vault {

/// Kind "pkcs11": settings and params {"uri": "pkcs11:token=...;object=..."} (params also say the
/// mechanism); the key source's secret is the user PIN, and re-opening takes the PIN from
/// Unlock::pin. An AES key is made on the token when the URI names no key there.
[[nodiscard]] KeyWrapperFactory pkcs11_wrapper_factory();

}  // namespace dpgcert::vault
