// The store's environment policy: which OCES environment (production, test) import accepts. Kept
// as the store-wide setting "environment"; changing it is audited; import enforces it as the
// validation report's environment check.
#include "store/store_impl.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/oces.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace dpgcert {

std::string_view to_string(EnvironmentPolicy policy) noexcept {
  switch (policy) {
    case EnvironmentPolicy::any: return "any";
    case EnvironmentPolicy::production: return "production";
    case EnvironmentPolicy::test: return "test";
  }
  return "any";
}

std::optional<EnvironmentPolicy> parse_environment_policy(std::string_view text) noexcept {
  if (text == "any") return EnvironmentPolicy::any;
  if (text == "production") return EnvironmentPolicy::production;
  if (text == "test") return EnvironmentPolicy::test;
  return std::nullopt;
}

EnvironmentPolicy store_detail::environment_policy(store::Transaction& tx) {
  const auto text = tx.setting(kEnvironmentSetting);
  if (!text) return EnvironmentPolicy::any;  // a store from before environment policies
  const auto policy = parse_environment_policy(*text);
  if (!policy) throw Error(ErrorCode::malformed, "store: unknown environment policy '" + *text + "'");
  return *policy;
}

void store_detail::enforce_environment(ValidationReport& report, EnvironmentPolicy policy, const Certificate& leaf) {
  if (policy == EnvironmentPolicy::any) return;
  const oces::Environment want =
      policy == EnvironmentPolicy::production ? oces::Environment::production : oces::Environment::test;
  const oces::Environment got = oces::identify(leaf).environment;
  if (got == want) return;
  std::string message = "this store accepts ";
  message += to_string(policy);
  message += " certificates only (its environment policy), and this is ";
  if (got == oces::Environment::unknown) {
    message += "not an OCES certificate of a known environment";
  } else {
    message += "a ";
    message += oces::to_string(got);
    message += " certificate";
  }
  bool found = false;
  for (Check& c : report.checks) {
    if (c.id == check_id::environment) {
      c.status = CheckStatus::fail;
      c.message = message;
      found = true;
    }
  }
  if (!found) report.checks.push_back({std::string(check_id::environment), CheckStatus::fail, message});
  report.verdict = CheckStatus::fail;
}

void Store::set_environment_policy(EnvironmentPolicy policy, std::string_view actor) {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  const Time t = s.now();
  const std::string who = s.actor_or_default(actor);
  s.transact(true, [&](store::Transaction& tx) {
    const EnvironmentPolicy before = store_detail::environment_policy(tx);
    if (before == policy && tx.setting(store_detail::kEnvironmentSetting)) return;
    tx.set_setting(store_detail::kEnvironmentSetting, to_string(policy), t);
    s.audit(tx, t, who, "store.environment", "store", s.backend->location(),
            {{"from", to_string(before)}, {"to", to_string(policy)}});
  });
}

}  // namespace dpgcert
