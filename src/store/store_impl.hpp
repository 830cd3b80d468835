// The state behind a Store handle, shared by the store's source files (and reached by the
// lifecycle layer through store_detail::Access). Private to the store layer and the layers above.
#pragma once

#include "store/backend.hpp"

#include <dpgcert/store.hpp>

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert {

struct Store::Impl {
  Impl(StoreOptions opts, std::unique_ptr<store::Backend> b);

  StoreOptions options;
  std::shared_ptr<const Clock> clock;
  std::shared_ptr<const Clock> wall_clock;
  bool own_clock;  ///< A clock was given (StoreOptions::clock): audit lines record its time.
  const Context* ctx;
  std::string default_actor;
  /// Serialises every use of the backend and of the vault below (one connection per Store).
  mutable std::mutex mu;
  std::unique_ptr<store::Backend> backend;
  mutable std::optional<vault::Vault> unlocked;  ///< The master key, once unlocked.
  mutable std::vector<std::byte> vault_check;

  [[nodiscard]] Time now() const { return clock->now(); }
  [[nodiscard]] std::string actor_or_default(std::string_view actor) const {
    return actor.empty() ? default_actor : std::string(actor);
  }
  /// Runs `f(Transaction&)` in a backend transaction; the caller holds `mu`.
  template <class F>
  auto transact(bool write, F&& f) const {
    return store::transact(*backend, write, std::forward<F>(f));
  }
  /// Appends an audit line (details: a JSON object, compact): `at` is the store clock's time of
  /// the change, recorded as the line's command_time when the store has a clock of its own; the
  /// line's `at` is the wall clock's.
  void audit(store::Transaction& tx, Time at, std::string_view actor, std::string_view action,
             std::string_view kind, std::string_view key, const nlohmann::json& details) const;
  /// Unlocks the master key on first use (outside any write transaction: Argon2id may take a
  /// second). With `recheck`, also when another process has rotated it since. Caller holds `mu`.
  void ensure_vault(bool recheck = false) const;
  /// The vault, checked against the header inside the current transaction: a key rotated by
  /// another process since ensure_vault() is noticed here, before anything is sealed.
  const vault::Vault& vault_in(store::Transaction& tx) const;
};

namespace store_detail {

/// The private side of a Store, for the store's own files and the lifecycle layer.
struct Access {
  [[nodiscard]] static Store::Impl& impl(const Store& store) noexcept { return *store.impl_; }
};

/// The name of the setting that holds the environment policy.
inline constexpr std::string_view kEnvironmentSetting = "environment";
/// The store's environment policy (any when never set). Error(malformed) for an unknown value.
[[nodiscard]] EnvironmentPolicy environment_policy(store::Transaction& tx);
/// Fails the report's environment check (and so the report) when the leaf's OCES environment is
/// not the one `policy` accepts.
void enforce_environment(ValidationReport& report, EnvironmentPolicy policy, const Certificate& leaf);

/// Throws Error(invalid_argument) unless `address` is a mailbox address; returns it lowercased.
[[nodiscard]] std::string check_address(std::string_view address);
/// "ab:CD..." to lowercase hex; Error(invalid_argument) when not a fingerprint (prefix of >= 8).
[[nodiscard]] std::string normalise_fingerprint(std::string_view fingerprint);
/// The id of the certificate with this fingerprint or unique prefix. Error(conflict) if ambiguous.
[[nodiscard]] std::optional<std::int64_t> resolve_fingerprint(store::Transaction& tx, const std::string& fp);

}  // namespace store_detail
}  // namespace dpgcert
