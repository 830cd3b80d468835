// Private: the revocation check of validate() in RevocationMode::online (online.cpp).
#pragma once

#include <dpgcert/validation.hpp>

#include <vector>

namespace dpgcert::detail {

struct OnlineOutcome {
  Check check;
  std::vector<RevocationStatus> statuses;  ///< One per certificate asked about, the leaf first.
};

/// Asks about every certificate of `chain` (the leaf first, the anchor last) in the policy's
/// revocation scope, below the anchor, and judges the answers. `ran`: the path was built. `pool`:
/// the untrusted certificates given for path building (a bundle's chain, ValidationInput::
/// intermediates, the anchors' intermediates), where a CA's separate CRL signer is looked for.
[[nodiscard]] OnlineOutcome online_revocation_check(const std::vector<Certificate>& chain, bool ran,
                                                    const std::vector<const Certificate*>& pool,
                                                    const ValidationInput& input, const Context& ctx);

}  // namespace dpgcert::detail
