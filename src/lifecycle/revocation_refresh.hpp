// Private: the revocation refresh of Lifecycle::check() and its store settings (revocation_refresh.cpp).
#pragma once

#include "lifecycle/bookkeeping.hpp"

#include <dpgcert/lifecycle.hpp>

#include <chrono>
#include <optional>

namespace dpgcert::lifecycle_detail {

[[nodiscard]] std::optional<std::chrono::seconds> revocation_refresh(const Store& store);
void set_revocation_refresh(Store& store, std::optional<std::chrono::seconds> interval, std::string_view actor);
[[nodiscard]] std::optional<Time> last_revocation_refresh(const Store& store);
/// Refreshes when asked (options.enabled or the store's setting) and due; see RevocationRefreshOptions.
[[nodiscard]] RevocationRefreshResult refresh_revocation(Store& store, Time now, const RevocationRefreshOptions& options,
                                                         std::size_t batch);

}  // namespace dpgcert::lifecycle_detail
