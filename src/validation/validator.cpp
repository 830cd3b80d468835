// validate(): OpenSSL's X509_verify_cert in dpgcert's library context, plus the OCES profile,
// revocation data handling and the checklist.
//
// The OpenSSL part (X509_verify_cert and its parameters) is in path.cpp; the checks here judge what
// it recorded: revocation errors belong to the revocation check (a stale CRL warns, a missing CRL is
// skipped unless required, and neither fails the chain), the leaf's own validity period belongs to
// the validity check, everything else fails the chain.
#include "validation/checks.hpp"
#include "validation/path.hpp"
#include "validation/revocation/online.hpp"

#include <dpgcert/error.hpp>

#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>

namespace dpgcert {
namespace {

constexpr std::int64_t kDay = 86400;

using detail::is_chain_error;
using detail::is_revocation_error;
using detail::run_openssl;
using detail::VerifyOutcome;

// ---- texts ----------------------------------------------------------------------------------

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

using detail::join;

/// The CN of a name, else its whole RFC 4514 text.
std::string short_name(const DistinguishedName& name) {
  if (auto cn = name.first("CN")) return *cn;
  return name.to_string();
}

std::string date_text(Time t) { return format_rfc3339(t); }

std::string days_text(std::int64_t days) { return std::to_string(days) + (days == 1 ? " day" : " days"); }

std::string who(int depth, const std::vector<Certificate>& chain) {
  if (depth == 0) return "the certificate";
  if (depth < static_cast<int>(chain.size())) return "CA '" + short_name(chain[static_cast<std::size_t>(depth)].subject()) + "'";
  return "the certificate at depth " + std::to_string(depth);
}

// ---- the checks -----------------------------------------------------------------------------

struct Checklist {
  std::vector<Check> checks;
  Checklist() {
    checks.reserve(12);
    for (std::string_view id : {check_id::pkcs12_opened, check_id::key_matches_certificate, check_id::pkcs12_profile,
                                check_id::chain, check_id::validity, check_id::revocation,
                                check_id::signature_algorithm, check_id::key_strength, check_id::key_usage,
                                check_id::certificate_type, check_id::environment, check_id::cvr}) {
      checks.push_back(Check{std::string(id), CheckStatus::skip, "not checked"});
    }
  }
  void set(std::string_view id, CheckStatus status, std::string message) {
    for (auto& c : checks) {
      if (c.id == id) {
        c.status = status;
        c.message = std::move(message);
        return;
      }
    }
  }
  void skip_certificate_checks(const std::string& why) {
    for (std::string_view id : {check_id::chain, check_id::validity, check_id::revocation, check_id::signature_algorithm,
                                check_id::key_strength, check_id::key_usage, check_id::certificate_type,
                                check_id::environment, check_id::cvr}) {
      set(id, CheckStatus::skip, why);
    }
  }
};

CheckStatus verdict_of(const std::vector<Check>& checks) {
  bool warn = false;
  for (const auto& c : checks) {
    if (c.status == CheckStatus::fail) return CheckStatus::fail;
    if (c.status == CheckStatus::warn) warn = true;
  }
  return warn ? CheckStatus::warn : CheckStatus::pass;
}

Check chain_check(const VerifyOutcome& v, const TrustAnchors& anchors) {
  const std::string id(check_id::chain);
  if (!v.internal_problem.empty()) return {id, CheckStatus::fail, "OpenSSL could not verify the chain: " + v.internal_problem};
  const auto first = std::find_if(v.errors.begin(), v.errors.end(), is_chain_error);
  if (first != v.errors.end()) {
    std::string msg = first->reason + " at depth " + std::to_string(first->depth);
    if (first->depth == 0) {
      msg += " (the certificate)";
    } else if (first->subject) {
      msg += " (" + *first->subject + ")";
    }
    if (anchors.empty()) msg += "; no trust anchors were given";
    const auto more = std::count_if(first + 1, v.errors.end(), is_chain_error);
    if (more > 0) msg += "; " + std::to_string(more) + " more error" + (more == 1 ? "" : "s");
    return {id, CheckStatus::fail, msg};
  }
  const std::string top = v.chain.empty() ? std::string("?") : v.chain.back().subject().to_string();
  return {id, CheckStatus::pass,
          "verified to the trust anchor " + top + " (" + std::to_string(v.chain.size()) + " certificates)"};
}

Check validity_check(const Certificate& c, Time at, const ValidationPolicy& policy) {
  const std::string id(check_id::validity);
  if (at < c.not_before()) {
    const auto days = (c.not_before() - at).count() / kDay;
    return {id, CheckStatus::fail, "not yet valid: valid from " + date_text(c.not_before()) + " (in " + days_text(days) + ")"};
  }
  if (at > c.not_after()) {
    const auto days = (at - c.not_after()).count() / kDay;
    return {id, CheckStatus::fail, "expired on " + date_text(c.not_after()) + " (" + days_text(days) + " ago)"};
  }
  const auto left = (c.not_after() - at).count() / kDay;
  if (left < policy.min_days) {
    return {id, CheckStatus::warn, "expires on " + date_text(c.not_after()) + ", in " + days_text(left) +
                                       " (fewer than the " + std::to_string(policy.min_days) + " days required)"};
  }
  return {id, CheckStatus::pass, "valid until " + date_text(c.not_after()) + " (" + days_text(left) + " left)"};
}

/// The newest CRL issued under `issuer`'s name (nullptr if none).
const Crl* crl_of(const DistinguishedName& issuer, const std::vector<Crl>& crls) {
  const Crl* best = nullptr;
  for (const Crl& crl : crls) {
    if (crl.is_delta() || !(crl.issuer() == issuer)) continue;
    if (best == nullptr || crl.this_update() > best->this_update()) best = &crl;
  }
  return best;
}

Check revocation_check(const VerifyOutcome& v, const std::vector<Crl>& crls, const ValidationPolicy& policy) {
  const std::string id(check_id::revocation);
  if (policy.revocation == RevocationScope::none) return {id, CheckStatus::skip, "not checked: the policy asks for no revocation check"};
  if (crls.empty()) {
    if (policy.require_revocation_data) return {id, CheckStatus::fail, "no CRL was given, and the policy requires revocation data"};
    return {id, CheckStatus::skip, "not checked: no CRL was given"};
  }
  if (!v.ran || v.chain.empty()) return {id, CheckStatus::skip, "not checked: the chain could not be verified"};

  const int last = policy.revocation == RevocationScope::leaf ? 0 : static_cast<int>(v.chain.size()) - 1;
  std::vector<std::string> failures, warnings, missing, good, noted;
  for (int depth = 0; depth <= last; ++depth) {
    const Certificate& cert = v.chain[static_cast<std::size_t>(depth)];
    bool revoked = false, stale = false, absent = false, broken = false;
    std::vector<std::string> problems;
    for (const auto& e : v.errors) {
      if (e.depth != depth || !is_revocation_error(e.code)) continue;
      switch (e.code) {
        case X509_V_ERR_CERT_REVOKED: revoked = true; break;
        case X509_V_ERR_CRL_HAS_EXPIRED: stale = true; break;
        case X509_V_ERR_UNABLE_TO_GET_CRL: absent = true; break;
        default:
          broken = true;
          if (std::find(problems.begin(), problems.end(), e.reason) == problems.end()) problems.push_back(e.reason);
      }
    }
    const bool has_issuer = depth + 1 < static_cast<int>(v.chain.size()) || cert.is_self_issued();
    const Crl* crl = crl_of(cert.issuer(), crls);
    if (revoked) {
      std::string msg = who(depth, v.chain) + " was revoked";
      std::optional<RevokedCertificate> entry;
      for (const Crl& c : crls) {
        if (c.issuer() == cert.issuer() && (entry = c.find(cert.serial()))) break;
      }
      if (entry) {
        msg += " on " + date_text(entry->revocation_date);
        msg += entry->reason ? " (reason: " + std::string(to_string(*entry->reason)) + ")" : " (no reason given)";
      }
      failures.push_back(msg);
    } else if (broken) {
      if (!has_issuer) {
        missing.push_back("the issuer of " + who(depth, v.chain) + " was not found, so its CRL cannot be checked");
      } else {
        failures.push_back("the CRL for " + who(depth, v.chain) + " is not usable: " + join(problems, "; "));
      }
    } else if (absent && depth > 0 && policy.ca_crls_optional && !policy.require_revocation_data) {
      noted.push_back("no CRL from '" + short_name(cert.issuer()) + "' for " + who(depth, v.chain) + " (not required)");
    } else if (absent) {
      missing.push_back("no CRL from '" + short_name(cert.issuer()) + "' for " + who(depth, v.chain));
    }
    if (stale && !revoked) {
      std::string msg = "the CRL from '" + short_name(cert.issuer()) + "' is stale";
      if (crl != nullptr && crl->next_update()) msg += " (nextUpdate " + date_text(*crl->next_update()) + ")";
      (policy.stale_crl_fails ? failures : warnings).push_back(msg);
    }
    if (!revoked && !broken && !absent) {
      std::string msg = who(depth, v.chain) + " is not revoked";
      if (crl != nullptr) msg += " (CRL from '" + short_name(crl->issuer()) + "' of " + date_text(crl->this_update()) + ")";
      good.push_back(msg);
    }
  }
  if (!failures.empty()) {
    auto all = failures;
    all.insert(all.end(), warnings.begin(), warnings.end());
    return {id, CheckStatus::fail, join(all, "; ")};
  }
  if (!missing.empty() && policy.require_revocation_data) {
    return {id, CheckStatus::fail, join(missing, "; ") + "; the policy requires revocation data"};
  }
  if (!missing.empty() && good.empty()) {
    auto all = missing;
    all.insert(all.end(), warnings.begin(), warnings.end());
    return {id, warnings.empty() ? CheckStatus::skip : CheckStatus::warn, "not checked: " + join(all, "; ")};
  }
  if (!missing.empty() || !warnings.empty()) {
    auto all = warnings;
    all.insert(all.end(), missing.begin(), missing.end());
    all.insert(all.end(), good.begin(), good.end());
    all.insert(all.end(), noted.begin(), noted.end());
    return {id, CheckStatus::warn, join(all, "; ")};
  }
  if (good.empty()) return {id, CheckStatus::skip, "not checked: " + join(noted, "; ")};
  good.insert(good.end(), noted.begin(), noted.end());
  return {id, CheckStatus::pass, join(good, "; ")};
}

Check signature_check(const Certificate& c, const ValidationPolicy& policy) {
  const std::string id(check_id::signature_algorithm);
  if (policy.weak_signature_digests.empty()) return {id, CheckStatus::skip, "not checked: the policy names no weak digest"};
  const std::string alg = c.signature_algorithm();
  const std::string digest = c.signature_digest();
  for (const auto& weak : policy.weak_signature_digests) {
    if (!digest.empty() && lower(weak) == lower(digest)) {
      return {id, CheckStatus::fail, "signed with " + alg + ": " + digest + " is broken for signatures"};
    }
  }
  return {id, CheckStatus::pass, alg + (digest.empty() || alg.find(lower(digest)) != std::string::npos ? "" : " with " + digest)};
}

std::string type_text(const oces::Identity& identity) {
  if (!identity.is_oces()) return "not an OCES certificate";
  std::string gen = identity.generation == oces::Generation::oces1   ? "OCES1 "
                    : identity.generation == oces::Generation::oces2 ? "OCES2 "
                                                                     : "OCES3 ";
  return gen + std::string(oces::display_name(identity.type));
}

Check type_check(const oces::Identity& identity, const ValidationPolicy& policy) {
  const std::string id(check_id::certificate_type);
  if (!policy.oces_profile) return {id, CheckStatus::skip, "not checked: no OCES profile in this policy"};
  if (identity.generation == oces::Generation::oces1) {
    std::string msg = type_text(identity);
    msg += " issued by TDC: OCES1 is a retired generation and is not accepted; the customer needs a current certificate";
    msg += " (OCES3 organisation certificate from MitID Erhverv)";
    return {id, CheckStatus::fail, msg};
  }
  if (policy.accepted_types.empty()) return {id, CheckStatus::skip, "not checked (any type accepted): " + type_text(identity)};
  if (std::find(policy.accepted_types.begin(), policy.accepted_types.end(), identity.type) != policy.accepted_types.end()) {
    return {id, CheckStatus::pass, type_text(identity)};
  }
  std::vector<std::string> accepted;
  for (auto t : policy.accepted_types) accepted.emplace_back(oces::display_name(t));
  if (!identity.is_oces()) {
    return {id, CheckStatus::fail,
            "not an OCES certificate (neither an OCES certificate policy nor an OCES serialNumber); accepted here: " +
                join(accepted)};
  }
  return {id, CheckStatus::fail, type_text(identity) + " is not accepted here (accepted: " + join(accepted) + ")"};
}

Check environment_check(const oces::Identity& identity, const ValidationPolicy& policy) {
  const std::string id(check_id::environment);
  if (!policy.oces_profile) return {id, CheckStatus::skip, "not checked: no OCES profile in this policy"};
  const std::string_view have = oces::to_string(identity.environment);
  if (!policy.expected_environment) {
    if (identity.environment == oces::Environment::unknown) return {id, CheckStatus::skip, "not checked: no environment required"};
    return {id, CheckStatus::skip, "not checked: a " + std::string(have) + " certificate; no environment required"};
  }
  const std::string_view want = oces::to_string(*policy.expected_environment);
  if (identity.environment == *policy.expected_environment) return {id, CheckStatus::pass, std::string(have)};
  if (identity.environment == oces::Environment::unknown) {
    return {id, CheckStatus::fail, "cannot tell whether it is a test or production certificate; " + std::string(want) + " required"};
  }
  return {id, CheckStatus::fail, "a " + std::string(have) + " certificate where " + std::string(want) + " is required"};
}

Check cvr_check(const oces::Identity& identity, const ValidationPolicy& policy) {
  const std::string id(check_id::cvr);
  if (!policy.oces_profile) return {id, CheckStatus::skip, "not checked: no OCES profile in this policy"};
  if (!policy.expected_cvr) {
    return {id, CheckStatus::skip, identity.cvr ? "not checked: CVR " + *identity.cvr + "; no CVR expected"
                                                : "not checked: no CVR expected"};
  }
  if (!identity.cvr) return {id, CheckStatus::fail, "the certificate carries no CVR number; " + *policy.expected_cvr + " expected"};
  if (*identity.cvr != *policy.expected_cvr) {
    return {id, CheckStatus::fail, "CVR " + *identity.cvr + " where " + *policy.expected_cvr + " is expected"};
  }
  if (identity.cvr_valid && !*identity.cvr_valid) {
    return {id, CheckStatus::warn, "CVR " + *identity.cvr + " as expected, but its check digit is wrong"};
  }
  return {id, CheckStatus::pass, "CVR " + *identity.cvr};
}

// ---- putting it together --------------------------------------------------------------------

void check_input(const ValidationInput& input) {
  if (input.at == Time{}) throw Error(ErrorCode::invalid_argument, "validation: no validation time was given (ValidationInput::at)");
}

/// Runs every certificate check into `list` and fills the report's certificate fields.
void validate_certificate(const Certificate& leaf, const std::vector<Certificate>& extra_chain,
                          const ValidationInput& input, const Context& ctx, Checklist& list, ValidationReport& report) {
  const TrustAnchors& anchors = input.anchors ? *input.anchors : TrustAnchors::oces_builtin();
  std::vector<const Certificate*> pool;
  pool.reserve(extra_chain.size() + input.intermediates.size() + anchors.intermediates().size());
  for (const auto& c : extra_chain) pool.push_back(&c);
  for (const auto& c : input.intermediates) pool.push_back(&c);
  for (const auto& c : anchors.intermediates()) pool.push_back(&c);

  const ValidationPolicy& policy = input.policy;
  const bool online = input.revocation_mode == RevocationMode::online;
  // Online, OpenSSL builds and checks the path without CRLs; the revocation check asks the network
  // about the path it built (revocation/online.cpp).
  VerifyOutcome v = run_openssl(leaf, pool, anchors, online ? std::vector<Crl>{} : input.crls, policy, input.at, ctx);
  const oces::Identity identity =
      input.catalogue ? oces::identify(leaf, *input.catalogue) : oces::identify(leaf, oces::Catalogue::builtin());

  const Check chain = chain_check(v, anchors);
  list.set(check_id::chain, chain.status, chain.message);
  Check revocation;
  if (online) {
    detail::OnlineOutcome o = detail::online_revocation_check(v.chain, v.ran, pool, input, ctx);
    revocation = std::move(o.check);
    report.revocation = std::move(o.statuses);
  } else {
    revocation = revocation_check(v, input.crls, policy);
  }
  for (const Check& c : {validity_check(leaf, input.at, policy), revocation,
                         signature_check(leaf, policy), detail::key_strength_check(leaf, v.chain, policy),
                         detail::key_usage_check(leaf, policy),
                         type_check(identity, policy), environment_check(identity, policy), cvr_check(identity, policy)}) {
    list.set(c.id, c.status, c.message);
  }
  const auto first = std::find_if(v.errors.begin(), v.errors.end(), is_chain_error);
  if (first != v.errors.end()) {
    report.openssl_error = first->code;
    report.openssl_error_depth = first->depth;
  }
  report.openssl_errors = std::move(v.errors);
  report.chain = std::move(v.chain);
  report.certificate = leaf;
  report.identity = identity;
}

ValidationReport finish(Checklist& list, ValidationReport report) {
  report.checks = std::move(list.checks);
  report.verdict = verdict_of(report.checks);
  return report;
}

std::string profile_summary(const Pkcs12Profile& p) {
  std::vector<std::string> encs;
  for (const auto& bag : p.bags) {
    if (bag.encryption != "none" && std::find(encs.begin(), encs.end(), bag.encryption) == encs.end()) {
      encs.push_back(bag.encryption);
    }
  }
  std::string out = encs.empty() ? "no encryption" : join(encs);
  out += p.mac ? ", " + p.mac->digest + " MAC" : ", no MAC";
  out += ", " + std::to_string(p.max_iterations()) + " iterations";
  return out;
}

}  // namespace

// ---- public ---------------------------------------------------------------------------------

std::string_view to_string(CheckStatus status) noexcept {
  switch (status) {
    case CheckStatus::pass: return "pass";
    case CheckStatus::warn: return "warn";
    case CheckStatus::fail: return "fail";
    case CheckStatus::skip: return "skip";
  }
  return "skip";
}

const Check* ValidationReport::find(std::string_view id) const noexcept {
  for (const auto& c : checks) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

CheckStatus ValidationReport::status(std::string_view id) const noexcept {
  const Check* c = find(id);
  return c != nullptr ? c->status : CheckStatus::skip;
}

ValidationReport validate(const Certificate& certificate, const ValidationInput& input, const Context& ctx) {
  check_input(input);
  Checklist list;
  ValidationReport report;
  report.at = input.at;
  list.set(check_id::pkcs12_opened, CheckStatus::skip, "not a PKCS#12 file");
  list.set(check_id::key_matches_certificate, CheckStatus::skip, "no private key given");
  list.set(check_id::pkcs12_profile, CheckStatus::skip, "not a PKCS#12 file");
  validate_certificate(certificate, {}, input, ctx, list, report);
  return finish(list, std::move(report));
}

ValidationReport validate(const Pkcs12Bundle& bundle, const ValidationInput& input, const Context& ctx) {
  check_input(input);
  Checklist list;
  ValidationReport report;
  report.at = input.at;
  const std::size_t n = bundle.certificates().size();
  list.set(check_id::pkcs12_opened, CheckStatus::pass,
           "opened: " + std::to_string(n) + (n == 1 ? " certificate" : " certificates") +
               (bundle.private_key() != nullptr ? " and a private key" : ", no private key"));

  const auto& leaf = bundle.leaf();
  const PrivateKey* key = bundle.private_key();
  if (key == nullptr) {
    list.set(check_id::key_matches_certificate, CheckStatus::fail, "the file holds no private key");
  } else if (!leaf) {
    list.set(check_id::key_matches_certificate, CheckStatus::fail, "no certificate in the file belongs to the private key");
  } else if (bundle.key_matches()) {
    // Described from the certificate's (cached) key info: the key matches it, and decoding the
    // PKCS#8 again would cost more than the rest of the report.
    const PublicKeyInfo& k = leaf->public_key();
    list.set(check_id::key_matches_certificate, CheckStatus::pass,
             "the private key belongs to the certificate (" + k.algorithm + " " + std::to_string(k.bits) + " bits)");
  } else {
    list.set(check_id::key_matches_certificate, CheckStatus::fail, "the private key does not belong to the certificate");
  }

  const Pkcs12Profile& profile = bundle.profile();
  if (profile.legacy) {
    list.set(check_id::pkcs12_profile, CheckStatus::warn,
             "legacy protection (" + join(profile.legacy_reasons) + "); re-wrap advised");
  } else {
    list.set(check_id::pkcs12_profile, CheckStatus::pass, "modern protection: " + profile_summary(profile));
  }

  if (!leaf) {
    list.skip_certificate_checks("not checked: the file holds no end-entity certificate");
    return finish(list, std::move(report));
  }
  validate_certificate(*leaf, bundle.chain(), input, ctx, list, report);
  return finish(list, std::move(report));
}

ValidationReport validate_bytes(std::span<const std::byte> data, const SecretBytes* password,
                                const ValidationInput& input, const Context& ctx) {
  check_input(input);
  std::optional<LoadedFile> loaded;
  try {
    loaded = load_any(data, password, ctx);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::bad_password && e.code() != ErrorCode::unsupported) throw;
    Checklist list;
    ValidationReport report;
    report.at = input.at;
    report.open_error = e.code();
    list.set(check_id::pkcs12_opened, CheckStatus::fail,
             e.code() == ErrorCode::bad_password ? std::string("wrong password: ") + e.what()
                                                 : std::string("cannot be opened here: ") + e.what());
    list.set(check_id::key_matches_certificate, CheckStatus::skip, "not checked: the file could not be opened");
    list.set(check_id::pkcs12_profile, CheckStatus::skip, "not checked: the file could not be opened");
    list.skip_certificate_checks("not checked: the file could not be opened");
    return finish(list, std::move(report));
  }
  if (loaded->kind == FileKind::pkcs12 && loaded->bundle) return validate(*loaded->bundle, input, ctx);
  if (loaded->certificates.empty()) throw Error(ErrorCode::malformed, "validation: the input holds no certificate");
  if (loaded->certificates.size() == 1) return validate(loaded->certificates.front(), input, ctx);
  ValidationInput with_rest = input;
  with_rest.intermediates.insert(with_rest.intermediates.end(), loaded->certificates.begin() + 1,
                                 loaded->certificates.end());
  return validate(loaded->certificates.front(), with_rest, ctx);
}

}  // namespace dpgcert
