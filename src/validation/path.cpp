// run_openssl(): OpenSSL's X509_verify_cert in dpgcert's library context, for validate()
// (validator.cpp).
//
// Path validation parameters (X509_VERIFY_PARAM), all decided here and documented in
// docs/validation.md:
//   - the time is the caller's (X509_VERIFY_PARAM_set_time), never the system clock;
//   - X509_V_FLAG_X509_STRICT when ValidationPolicy::x509_strict (oces_gateway: on; every real
//     OCES2/OCES3 chain in ../shared/samples passes it; generic: off, as PKITS 4.6.4 expects a
//     non-critical basicConstraints on a CA to be accepted);
//   - X509_V_FLAG_PARTIAL_CHAIN only when ValidationPolicy::allow_partial_chain;
//   - X509_V_FLAG_CRL_CHECK only when CRLs are given and the revocation scope is not none, plus
//     X509_V_FLAG_CRL_CHECK_ALL for the chain scope, and with either X509_V_FLAG_EXTENDED_CRL_SUPPORT
//     (indirect CRLs, distribution-point and reason scopes) and X509_V_FLAG_USE_DELTAS (delta CRLs);
//   - X509_V_FLAG_POLICY_CHECK when policy processing is asked for, plus X509_V_FLAG_EXPLICIT_POLICY,
//     X509_V_FLAG_INHIBIT_MAP, X509_V_FLAG_INHIBIT_ANY and X509_VERIFY_PARAM_add0_policy for the
//     RFC 5280 inputs;
//   - no purpose and no security level: key usage and key strength are dpgcert's own checks.
//
// A verify callback records every error OpenSSL reports and lets the verification go on, so one
// run yields every finding; the checks then judge them: revocation errors belong to the revocation
// check (a stale CRL warns, a missing CRL is skipped unless required, and neither fails the chain),
// the leaf's own validity period belongs to the validity check, everything else fails the chain.
#include "validation/path.hpp"
#include "validation/validation_impl.hpp"
#include "x509/certificate_impl.hpp"
#include "x509/name_util.hpp"

#include <openssl/objects.h>

#include <algorithm>

namespace dpgcert::detail {
namespace {

constexpr std::size_t kMaxRecordedErrors = 256;
constexpr std::string_view kAnyPolicy = "2.5.29.32.0";

struct Recorder {
  std::vector<ChainError> errors;
  bool internal_failure = false;
};

int record_verify_error(int ok, X509_STORE_CTX* sctx) {
  if (ok == 1) return 1;
  auto* rec = static_cast<Recorder*>(X509_STORE_CTX_get_app_data(sctx));
  if (rec == nullptr) return 0;
  try {
    if (rec->errors.size() < kMaxRecordedErrors) {
      ChainError e;
      e.code = X509_STORE_CTX_get_error(sctx);
      e.depth = X509_STORE_CTX_get_error_depth(sctx);
      e.reason = X509_verify_cert_error_string(e.code);
      if (X509* cur = X509_STORE_CTX_get_current_cert(sctx); cur != nullptr) {
        e.subject = detail::name_from_x509(X509_get_subject_name(cur)).to_string();
      }
      rec->errors.push_back(std::move(e));
    }
    return 1;  // go on: every error is recorded here and judged by the checks
  } catch (...) {
    rec->internal_failure = true;
    return 0;
  }
}

}  // namespace

bool is_revocation_error(int code) {
  switch (code) {
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_CERT_REVOKED:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
      return true;
    default:
      return false;
  }
}

namespace {

bool is_leaf_validity_error(const ChainError& e) {
  return e.depth == 0 && (e.code == X509_V_ERR_CERT_HAS_EXPIRED || e.code == X509_V_ERR_CERT_NOT_YET_VALID);
}

}  // namespace

bool is_chain_error(const ChainError& e) { return !is_revocation_error(e.code) && !is_leaf_validity_error(e); }

namespace {

// Stacks of borrowed pointers: freeing the stack leaves the elements alone.
struct StackFree {
  void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_free(s); }
  void operator()(STACK_OF(X509_CRL) * s) const noexcept { sk_X509_CRL_free(s); }
};
using X509Stack = std::unique_ptr<STACK_OF(X509), StackFree>;
using X509CrlStack = std::unique_ptr<STACK_OF(X509_CRL), StackFree>;

unsigned long verify_flags(const ValidationPolicy& policy, bool crl_check) {
  unsigned long flags = 0;
  if (policy.x509_strict) flags |= X509_V_FLAG_X509_STRICT;
  if (policy.allow_partial_chain) flags |= X509_V_FLAG_PARTIAL_CHAIN;
  if (crl_check) {
    flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_EXTENDED_CRL_SUPPORT | X509_V_FLAG_USE_DELTAS;
    if (policy.revocation == RevocationScope::chain) flags |= X509_V_FLAG_CRL_CHECK_ALL;
  }
  const bool policy_inputs = !policy.initial_policy_set.empty() || policy.explicit_policy ||
                             policy.inhibit_policy_mapping || policy.inhibit_any_policy;
  if (policy.policy_check || policy_inputs) flags |= X509_V_FLAG_POLICY_CHECK;
  if (policy.explicit_policy) flags |= X509_V_FLAG_EXPLICIT_POLICY;
  if (policy.inhibit_policy_mapping) flags |= X509_V_FLAG_INHIBIT_MAP;
  if (policy.inhibit_any_policy) flags |= X509_V_FLAG_INHIBIT_ANY;
  return flags;
}

/// Finds the Certificate value behind an X509* of the chain OpenSSL built.
Certificate certificate_for(X509* x, const Certificate& leaf, const std::vector<const Certificate*>& pool,
                            const TrustAnchors& anchors, const Context& ctx) {
  if (detail::native(leaf) == x) return leaf;
  for (const Certificate* c : pool) {
    if (detail::native(*c) == x) return *c;
  }
  if (const Certificate* c = anchors.impl().find(x)) return *c;
  X509_up_ref(x);  // not expected: every X509 in the chain comes from the inputs
  return detail::certificate_from_x509(detail::X509Ptr(x), ctx);
}

}  // namespace

VerifyOutcome run_openssl(const Certificate& leaf, const std::vector<const Certificate*>& pool,
                          const TrustAnchors& anchors, const std::vector<Crl>& crls, const ValidationPolicy& policy,
                          Time at, const Context& ctx) {
  VerifyOutcome out;
  detail::clear_openssl_errors();
  X509_STORE* store = anchors.impl().store();

  X509Stack untrusted(sk_X509_new_reserve(nullptr, static_cast<int>(pool.size())));
  if (!untrusted) detail::throw_openssl(ErrorCode::internal, "validation: out of memory");
  for (const Certificate* c : pool) sk_X509_push(untrusted.get(), detail::native(*c));  // borrowed pointers

  out.crl_checked = policy.revocation != RevocationScope::none && !crls.empty();
  X509CrlStack crl_stack(sk_X509_CRL_new_reserve(nullptr, static_cast<int>(crls.size())));
  if (!crl_stack) detail::throw_openssl(ErrorCode::internal, "validation: out of memory");
  if (out.crl_checked) {
    for (const Crl& crl : crls) sk_X509_CRL_push(crl_stack.get(), crl.impl().crl.get());  // borrowed
  }

  detail::X509StoreCtxPtr sctx(X509_STORE_CTX_new_ex(detail::x509_libctx(ctx), nullptr));
  if (!sctx) detail::throw_openssl(ErrorCode::internal, "validation: cannot create an X509_STORE_CTX");
  if (X509_STORE_CTX_init(sctx.get(), store, detail::native(leaf), untrusted.get()) != 1) {
    detail::throw_openssl(ErrorCode::internal, "validation: cannot initialise an X509_STORE_CTX");
  }
  Recorder rec;
  X509_STORE_CTX_set_app_data(sctx.get(), &rec);
  X509_STORE_CTX_set_verify_cb(sctx.get(), record_verify_error);
  if (out.crl_checked) X509_STORE_CTX_set0_crls(sctx.get(), crl_stack.get());  // not freed by the ctx

  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(sctx.get());
  const unsigned long flags = verify_flags(policy, out.crl_checked);
  X509_VERIFY_PARAM_set_flags(param, flags);
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(to_unix(at)));
  if (policy.max_depth) {
    if (*policy.max_depth < 0) throw Error(ErrorCode::invalid_argument, "validation: the maximum depth must not be negative");
    X509_VERIFY_PARAM_set_depth(param, *policy.max_depth);
  }
  // The user-initial-policy-set. RFC 5280's default is {anyPolicy}, but OpenSSL reads an empty list
  // as an empty set: with an explicit policy required, every path then fails ("no explicit
  // policy"). So an empty set goes in as {anyPolicy}.
  static const std::vector<std::string> any_policy{std::string(kAnyPolicy)};
  static const std::vector<std::string> none;
  const bool policy_check = (flags & X509_V_FLAG_POLICY_CHECK) != 0;
  const auto& initial = !policy_check ? none : policy.initial_policy_set.empty() ? any_policy : policy.initial_policy_set;
  for (const std::string& oid : initial) {
    ASN1_OBJECT* obj = OBJ_txt2obj(oid.c_str(), 1);
    if (obj == nullptr || X509_VERIFY_PARAM_add0_policy(param, obj) != 1) {
      ASN1_OBJECT_free(obj);
      detail::clear_openssl_errors();
      throw Error(ErrorCode::invalid_argument, "validation: '" + oid + "' in the initial policy set is not a dotted OID");
    }
  }

  const int rc = X509_verify_cert(sctx.get());
  out.errors = std::move(rec.errors);
  if (rec.internal_failure) {
    out.internal_problem = "the verification was interrupted (out of memory)";
  } else if (rc <= 0 && std::none_of(out.errors.begin(), out.errors.end(), is_chain_error) &&
             std::none_of(out.errors.begin(), out.errors.end(), [](const ChainError& e) { return is_revocation_error(e.code); })) {
    // A failure that did not pass through the callback: OpenSSL itself could not run.
    const int code = X509_STORE_CTX_get_error(sctx.get());
    out.internal_problem = code != X509_V_OK ? X509_verify_cert_error_string(code) : detail::take_openssl_error();
    if (out.internal_problem.empty()) out.internal_problem = "X509_verify_cert failed without a reason";
  } else {
    out.ran = true;
  }
  if (const STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(sctx.get()); built != nullptr) {
    for (int i = 0; i < sk_X509_num(built); ++i) {
      out.chain.push_back(certificate_for(sk_X509_value(built, i), leaf, pool, anchors, ctx));
    }
  }
  detail::clear_openssl_errors();
  return out;
}

}  // namespace dpgcert::detail
