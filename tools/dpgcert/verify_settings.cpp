// The path-validation settings of `dpgcert verify` (verify_settings.hpp).
#include "verify_settings.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace dpgcert::cli {
namespace {

template <typename T>
void take(std::optional<T>& into, const std::optional<T>& from) {
  if (from) into = from;
}

void take(std::vector<std::string>& into, const std::vector<std::string>& from) {
  if (!from.empty()) into = from;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

[[noreturn]] void bad(const std::filesystem::path& file, const std::string& why) {
  std::string msg = "configuration '";
  msg += file.string();
  msg += "': ";
  msg += why;
  throw Error(ErrorCode::invalid_argument, msg);
}

bool bool_of(const nlohmann::json& v, const std::filesystem::path& file, const std::string& key) {
  if (!v.is_boolean()) bad(file, "\"validation." + key + "\" must be true or false");
  return v.get<bool>();
}

std::string string_of(const nlohmann::json& v, const std::filesystem::path& file, const std::string& key) {
  if (!v.is_string()) bad(file, "\"validation." + key + "\" must be a string");
  return v.get<std::string>();
}

std::vector<std::string> strings_of(const nlohmann::json& v, const std::filesystem::path& file, const std::string& key) {
  if (v.is_string()) return {v.get<std::string>()};
  if (!v.is_array()) bad(file, "\"validation." + key + "\" must be a string or a list of strings");
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(string_of(e, file, key));
  return out;
}

int int_of(const nlohmann::json& v, const std::filesystem::path& file, const std::string& key) {
  if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 100000) {
    bad(file, "\"validation." + key + "\" must be a whole number from 0");
  }
  return v.get<int>();
}

}  // namespace

VerifySettings VerifySettings::overlaid_by(const VerifySettings& over) const {
  VerifySettings s = *this;
  take(s.profile, over.profile);
  take(s.policies, over.policies);
  take(s.explicit_policy, over.explicit_policy);
  take(s.inhibit_policy_mapping, over.inhibit_policy_mapping);
  take(s.inhibit_any_policy, over.inhibit_any_policy);
  take(s.ekus, over.ekus);
  take(s.max_depth, over.max_depth);
  take(s.min_key_bits, over.min_key_bits);
  take(s.accept_digests, over.accept_digests);
  take(s.revocation.scope, over.revocation.scope);
  take(s.revocation.require, over.revocation.require);
  take(s.revocation.stale, over.revocation.stale);
  take(s.revocation.mode, over.revocation.mode);
  take(s.revocation.timeout_seconds, over.revocation.timeout_seconds);
  return s;
}

ValidationPolicy VerifySettings::policy() const {
  ValidationPolicy p = ValidationPolicy::named(profile.value_or("oces-gateway"));
  if (!policies.empty()) p.initial_policy_set = policies;
  if (explicit_policy) p.explicit_policy = *explicit_policy;
  if (inhibit_policy_mapping) p.inhibit_policy_mapping = *inhibit_policy_mapping;
  if (inhibit_any_policy) p.inhibit_any_policy = *inhibit_any_policy;
  if (!ekus.empty()) p.required_extended_key_usage = ekus;
  if (max_depth) p.max_depth = *max_depth;
  if (min_key_bits) p.set_min_key_bits(*min_key_bits);
  for (const auto& digest : accept_digests) {
    const std::string d = upper(digest);
    std::erase_if(p.weak_signature_digests, [&](const std::string& w) { return upper(w) == d; });
  }
  if (revocation.scope) p.revocation = parse_revocation_scope(*revocation.scope);
  if (revocation.require) p.require_revocation_data = *revocation.require;
  if (revocation.stale) {
    if (*revocation.stale != "warn" && *revocation.stale != "fail") {
      throw Error(ErrorCode::invalid_argument, "the stale-CRL mode must be warn or fail, not '" + *revocation.stale + "'");
    }
    p.stale_crl_fails = *revocation.stale == "fail";
  }
  return p;
}

void VerifySettings::apply_revocation_mode(ValidationInput& input) const {
  input.revocation_mode = parse_revocation_mode(revocation.mode.value_or("offline"));
  if (revocation.timeout_seconds) {
    if (*revocation.timeout_seconds < 1) throw Error(ErrorCode::invalid_argument, "the revocation timeout is at least 1 second");
    input.online.fetch.timeout = std::chrono::seconds(*revocation.timeout_seconds);
    input.online.fetch.connect_timeout = std::min(input.online.fetch.connect_timeout,
                                                  std::chrono::duration_cast<std::chrono::milliseconds>(input.online.fetch.timeout));
  }
}

bool read_verify_setting(const std::string& key, const nlohmann::json& value, const std::filesystem::path& file,
                         VerifySettings& s) {
  if (key == "profile") {
    s.profile = string_of(value, file, key);
  } else if (key == "policies") {
    s.policies = strings_of(value, file, key);
  } else if (key == "explicit_policy") {
    s.explicit_policy = bool_of(value, file, key);
  } else if (key == "inhibit_policy_mapping") {
    s.inhibit_policy_mapping = bool_of(value, file, key);
  } else if (key == "inhibit_any_policy") {
    s.inhibit_any_policy = bool_of(value, file, key);
  } else if (key == "eku") {
    s.ekus = strings_of(value, file, key);
  } else if (key == "max_depth") {
    s.max_depth = int_of(value, file, key);
  } else if (key == "min_key_bits") {
    s.min_key_bits = int_of(value, file, key);
  } else if (key == "accept_digests") {
    s.accept_digests = strings_of(value, file, key);
  } else if (key == "revocation") {
    s.revocation.scope = string_of(value, file, key);
  } else if (key == "require_revocation") {
    s.revocation.require = bool_of(value, file, key);
  } else if (key == "stale_crl") {
    s.revocation.stale = string_of(value, file, key);
  } else if (key == "revocation_mode") {
    s.revocation.mode = string_of(value, file, key);
    (void)parse_revocation_mode(*s.revocation.mode);  // a wrong value is the file's error, named now
  } else if (key == "revocation_timeout") {
    s.revocation.timeout_seconds = int_of(value, file, key);
  } else {
    return false;
  }
  return true;
}

}  // namespace dpgcert::cli
