/* C API: validation of certificates, bundles and file bytes, and reading the reports. */
#include "c_test.h"

/* The checks every report lists, in order (include/dpgcert/validation.hpp, check_id). */
static const char *const check_ids[] = {"pkcs12_opened",       "key_matches_certificate", "pkcs12_profile",
                                        "chain",               "validity",                "revocation",
                                        "signature_algorithm", "key_strength",            "key_usage",
                                        "certificate_type",    "environment",             "cvr"};
#define CHECK_COUNT (sizeof check_ids / sizeof check_ids[0])

typedef struct trust_files {
  uint8_t *root, *ca, *crl;
  size_t root_len, ca_len, crl_len;
} trust_files;

static trust_files read_trust(void) {
  trust_files t;
  t.root = read_test_file("oces2-prod/root.crt.pem", &t.root_len);
  t.ca = read_test_file("oces2-prod/ca.crt.der", &t.ca_len);
  t.crl = read_test_file("oces2-prod/crl-current.crl.pem", &t.crl_len);
  return t;
}

static void free_trust(trust_files *t) {
  free(t->root);
  free(t->ca);
  free(t->crl);
}

/* Options for the synthetic OCES2 production PKI at its validation time. */
static dpgcert_validate_options synthetic_options(const trust_files *t) {
  dpgcert_validate_options o = DPGCERT_VALIDATE_OPTIONS_INIT;
  o.at = TEST_TIME;
  o.trust = t->root;
  o.trust_len = t->root_len;
  o.intermediates = t->ca;
  o.intermediates_len = t->ca_len;
  return o;
}

static int status_of(const dpgcert_report *report, const char *id) {
  size_t index = 0;
  int status = -1;
  if (dpgcert_report_find(report, id, &index) != DPGCERT_OK) return -1;
  if (dpgcert_report_check_status(report, index, &status) != DPGCERT_OK) return -1;
  return status;
}

static void test_certificate_report(void) {
  trust_files t = read_trust();
  dpgcert_validate_options o = synthetic_options(&t);
  dpgcert_certificate *cert = load_test_certificate("oces2-prod/voces.crt.pem");
  dpgcert_certificate *validated = NULL;
  dpgcert_report *report = NULL;
  size_t count = 0, i;
  int verdict = -1;
  char *text = NULL;

  o.environment = DPGCERT_ENVIRONMENT_PRODUCTION;
  o.expected_cvr = "12345674";
  REQUIRE_OK(dpgcert_validate_certificate(&report, cert, &o));
  REQUIRE_OK(dpgcert_report_verdict(report, &verdict));
  CHECK(verdict == DPGCERT_CHECK_WARN); /* RSA 2048 is below the recommended 3072 */
  REQUIRE_OK(dpgcert_report_check_count(report, &count));
  REQUIRE(count == CHECK_COUNT);
  for (i = 0; i < count; ++i) {
    char *id = NULL, *message = NULL;
    int status = -1;
    size_t found = 99;
    GET_TEXT(id, dpgcert_report_check_id(report, i, buf, lenp));
    CHECK(id != NULL && strcmp(id, check_ids[i]) == 0);
    REQUIRE_OK(dpgcert_report_find(report, check_ids[i], &found));
    CHECK(found == i);
    REQUIRE_OK(dpgcert_report_check_status(report, i, &status));
    CHECK(status >= DPGCERT_CHECK_PASS && status <= DPGCERT_CHECK_SKIP);
    GET_TEXT(message, dpgcert_report_check_message(report, i, buf, lenp));
    CHECK(message != NULL && strlen(message) > 0);
    free(id);
    free(message);
  }
  CHECK(status_of(report, "pkcs12_opened") == DPGCERT_CHECK_SKIP);
  CHECK(status_of(report, "chain") == DPGCERT_CHECK_PASS);
  CHECK(status_of(report, "validity") == DPGCERT_CHECK_PASS);
  CHECK(status_of(report, "revocation") == DPGCERT_CHECK_SKIP);
  CHECK(status_of(report, "key_strength") == DPGCERT_CHECK_WARN);
  CHECK(status_of(report, "environment") == DPGCERT_CHECK_PASS);
  CHECK(status_of(report, "cvr") == DPGCERT_CHECK_PASS);
  CHECK_OUT_TEXT(dpgcert_report_check_id(report, 3, buf, lenp));
  CHECK_OUT_TEXT(dpgcert_report_check_message(report, 3, buf, lenp));

  REQUIRE_OK(dpgcert_report_certificate(&validated, report));
  {
    char *a = NULL, *b = NULL;
    GET_TEXT(a, dpgcert_certificate_fingerprint(validated, buf, lenp));
    GET_TEXT(b, dpgcert_certificate_fingerprint(cert, buf, lenp));
    CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
    free(a);
    free(b);
  }
  dpgcert_certificate_free(validated);

  GET_TEXT(text, dpgcert_report_json(report, buf, lenp));
  CHECK(text != NULL && strstr(text, "\"verdict\":\"warn\"") != NULL);
  CHECK(text != NULL && strstr(text, "\"validation_time\":\"2025-06-01T00:00:00Z\"") != NULL);
  CHECK(text != NULL && strstr(text, "\"id\":\"key_strength\"") != NULL);
  free(text);
  CHECK_OUT_TEXT(dpgcert_report_json(report, buf, lenp));
  GET_TEXT(text, dpgcert_report_text(report, buf, lenp));
  CHECK(text != NULL && strstr(text, "[WARN] key_strength") != NULL);
  CHECK(text != NULL && strstr(text, "Verdict: WARN") != NULL);
  free(text);
  CHECK_OUT_TEXT(dpgcert_report_text(report, buf, lenp));

  dpgcert_report_free(report);
  dpgcert_certificate_free(cert);
  free_trust(&t);
}

static void test_options_change_the_verdict(void) {
  trust_files t = read_trust();
  dpgcert_certificate *cert = load_test_certificate("oces2-prod/voces.crt.pem");
  dpgcert_certificate *revoked = load_test_certificate("odd/foces-revoked.crt.pem");
  dpgcert_report *report = NULL;
  dpgcert_validate_options o;
  int verdict = -1;

  /* The wrong environment and the wrong CVR fail. */
  o = synthetic_options(&t);
  o.environment = DPGCERT_ENVIRONMENT_TEST;
  o.expected_cvr = "87654321";
  REQUIRE_OK(dpgcert_validate_certificate(&report, cert, &o));
  REQUIRE_OK(dpgcert_report_verdict(report, &verdict));
  CHECK(verdict == DPGCERT_CHECK_FAIL);
  CHECK(status_of(report, "environment") == DPGCERT_CHECK_FAIL);
  CHECK(status_of(report, "cvr") == DPGCERT_CHECK_FAIL);
  dpgcert_report_free(report);

  /* More days wanted than are left: the validity check warns. */
  o = synthetic_options(&t);
  o.min_days = 1000;
  REQUIRE_OK(dpgcert_validate_certificate(&report, cert, &o));
  CHECK(status_of(report, "validity") == DPGCERT_CHECK_WARN);
  dpgcert_report_free(report);

  /* The generic policy has no OCES profile. */
  o = synthetic_options(&t);
  o.policy = DPGCERT_POLICY_GENERIC;
  REQUIRE_OK(dpgcert_validate_certificate(&report, cert, &o));
  CHECK(status_of(report, "certificate_type") == DPGCERT_CHECK_SKIP);
  CHECK(status_of(report, "chain") == DPGCERT_CHECK_PASS);
  dpgcert_report_free(report);

  /* Without trust anchors the built-in OCES roots are used, and the synthetic chain fails. */
  o = synthetic_options(&t);
  o.trust = NULL;
  o.trust_len = 0;
  REQUIRE_OK(dpgcert_validate_certificate(&report, cert, &o));
  CHECK(status_of(report, "chain") == DPGCERT_CHECK_FAIL);
  dpgcert_report_free(report);

  /* With the current CRL a revoked certificate fails its revocation check. */
  o = synthetic_options(&t);
  o.crls = t.crl;
  o.crls_len = t.crl_len;
  REQUIRE_OK(dpgcert_validate_certificate(&report, revoked, &o));
  CHECK(status_of(report, "revocation") == DPGCERT_CHECK_FAIL);
  REQUIRE_OK(dpgcert_report_verdict(report, &verdict));
  CHECK(verdict == DPGCERT_CHECK_FAIL);
  dpgcert_report_free(report);
  REQUIRE_OK(dpgcert_validate_certificate(&report, cert, &o));
  CHECK(status_of(report, "revocation") == DPGCERT_CHECK_PASS);
  dpgcert_report_free(report);

  dpgcert_certificate_free(cert);
  dpgcert_certificate_free(revoked);
  free_trust(&t);
}

static void test_option_errors(void) {
  trust_files t = read_trust();
  dpgcert_certificate *cert = load_test_certificate("oces2-prod/voces.crt.pem");
  dpgcert_report *report = (dpgcert_report *)&report;
  dpgcert_validate_options o;
  static const uint8_t junk[] = {0x01, 0x02, 0x03};

  CHECK_RC(dpgcert_validate_certificate(&report, cert, NULL), DPGCERT_E_INVALID_ARGUMENT); /* no time */
  CHECK(report == NULL);
  o = synthetic_options(&t);
  o.at = 0;
  CHECK_RC(dpgcert_validate_certificate(&report, cert, &o), DPGCERT_E_INVALID_ARGUMENT);
  o = synthetic_options(&t);
  o.policy = 7;
  CHECK_RC(dpgcert_validate_certificate(&report, cert, &o), DPGCERT_E_INVALID_ARGUMENT);
  o = synthetic_options(&t);
  o.environment = 9;
  CHECK_RC(dpgcert_validate_certificate(&report, cert, &o), DPGCERT_E_INVALID_ARGUMENT);
  o = synthetic_options(&t);
  o.version = 0;
  CHECK_RC(dpgcert_validate_certificate(&report, cert, &o), DPGCERT_E_VERSION);
  o.version = DPGCERT_VALIDATE_OPTIONS_VERSION + 1;
  CHECK_RC(dpgcert_validate_certificate(&report, cert, &o), DPGCERT_E_VERSION);
  CHECK(strstr(dpgcert_error_last(), "dpgcert_validate_options version") != NULL);
  o = synthetic_options(&t);
  o.trust = junk;
  o.trust_len = sizeof junk;
  CHECK_RC(dpgcert_validate_certificate(&report, cert, &o), DPGCERT_E_MALFORMED);
  o = synthetic_options(&t);
  o.intermediates = junk;
  o.intermediates_len = sizeof junk;
  CHECK_RC(dpgcert_validate_certificate(&report, cert, &o), DPGCERT_E_MALFORMED);
  o = synthetic_options(&t);
  o.crls = junk;
  o.crls_len = sizeof junk;
  CHECK_RC(dpgcert_validate_certificate(&report, cert, &o), DPGCERT_E_MALFORMED);
  /* Version 3: the revocation mode (offline by default; unknown values refused). */
  o = synthetic_options(&t);
  CHECK(o.revocation_mode == DPGCERT_REVOCATION_OFFLINE);
  o.revocation_mode = 7;
  CHECK_RC(dpgcert_validate_certificate(&report, cert, &o), DPGCERT_E_INVALID_ARGUMENT);
  CHECK(strstr(dpgcert_error_last(), "revocation mode") != NULL);
  o = synthetic_options(&t);
  o.revocation_mode = DPGCERT_REVOCATION_ONLINE;
  o.revocation_timeout_ms = -1;
  CHECK_RC(dpgcert_validate_certificate(&report, cert, &o), DPGCERT_E_INVALID_ARGUMENT);
  /* Online with the revocation check off asks nothing (the synthetic PKI's URLs lie beyond
     127.0.0.1): the check is skipped as offline. */
  o = synthetic_options(&t);
  o.revocation_mode = DPGCERT_REVOCATION_ONLINE;
  o.revocation = DPGCERT_REVOCATION_OFF;
  CHECK_RC(dpgcert_validate_certificate(&report, cert, &o), DPGCERT_OK);
  CHECK(status_of(report, "revocation") == DPGCERT_CHECK_SKIP);
  dpgcert_report_free(report);
  report = (dpgcert_report *)&report;
  /* A version 2 struct is still read (revocation_mode not looked at: offline). */
  o = synthetic_options(&t);
  o.version = 2;
  o.revocation_mode = 7;
  CHECK_RC(dpgcert_validate_certificate(&report, cert, &o), DPGCERT_OK);
  dpgcert_report_free(report);
  report = (dpgcert_report *)&report;
  o = synthetic_options(&t);
  CHECK_RC(dpgcert_validate_certificate(&report, NULL, &o), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_validate_certificate(NULL, cert, &o), DPGCERT_E_NULL_ARGUMENT);
  CHECK(report == NULL);
  dpgcert_certificate_free(cert);
  free_trust(&t);
}

static void test_bundle_report(void) {
  trust_files t = read_trust();
  dpgcert_validate_options o = synthetic_options(&t);
  dpgcert_pkcs12 *bundle = load_test_pkcs12("oces2-prod/foces-legacy.p12", TEST_PASSWORD);
  dpgcert_report *report = (dpgcert_report *)&report;
  REQUIRE_OK(dpgcert_validate_pkcs12(&report, bundle, &o));
  CHECK(status_of(report, "pkcs12_opened") == DPGCERT_CHECK_PASS);
  CHECK(status_of(report, "key_matches_certificate") == DPGCERT_CHECK_PASS);
  CHECK(status_of(report, "pkcs12_profile") == DPGCERT_CHECK_WARN); /* legacy protection */
  CHECK(status_of(report, "chain") == DPGCERT_CHECK_PASS);
  dpgcert_report_free(report);
  CHECK_RC(dpgcert_validate_pkcs12(&report, NULL, &o), DPGCERT_E_NULL_ARGUMENT);
  CHECK(report == NULL);
  CHECK_RC(dpgcert_validate_pkcs12(NULL, bundle, &o), DPGCERT_E_NULL_ARGUMENT);
  o.version = 0;
  CHECK_RC(dpgcert_validate_pkcs12(&report, bundle, &o), DPGCERT_E_VERSION);
  dpgcert_pkcs12_free(bundle);
  free_trust(&t);
}

static void test_bytes_report(void) {
  trust_files t = read_trust();
  dpgcert_validate_options o = synthetic_options(&t);
  size_t len = 0, der_len = 0;
  uint8_t *p12 = read_test_file("oces2-prod/foces.p12", &len);
  uint8_t *der = read_test_file("oces2-prod/voces.crt.der", &der_len);
  dpgcert_report *report = NULL;
  dpgcert_certificate *cert = (dpgcert_certificate *)&cert;
  static const uint8_t wrong[] = "wrong";
  static const uint8_t with_nul[] = {'a', 0, 'b'};
  static const uint8_t junk[] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01};
  int verdict = -1;

  REQUIRE_OK(dpgcert_validate_bytes(&report, p12, len, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN, &o));
  CHECK(status_of(report, "pkcs12_opened") == DPGCERT_CHECK_PASS);
  CHECK(status_of(report, "chain") == DPGCERT_CHECK_PASS);
  dpgcert_report_free(report);

  /* A wrong password is a report, not an error: the onboarding checklist says what is wrong. */
  REQUIRE_OK(dpgcert_validate_bytes(&report, p12, len, wrong, sizeof wrong - 1, &o));
  CHECK(status_of(report, "pkcs12_opened") == DPGCERT_CHECK_FAIL);
  REQUIRE_OK(dpgcert_report_verdict(report, &verdict));
  CHECK(verdict == DPGCERT_CHECK_FAIL);
  CHECK_RC(dpgcert_report_certificate(&cert, report), DPGCERT_E_NOT_FOUND);
  CHECK(cert == NULL);
  dpgcert_report_free(report);

  /* No password: the empty and the absent password are tried, and fail for this file. */
  REQUIRE_OK(dpgcert_validate_bytes(&report, p12, len, NULL, 0, &o));
  CHECK(status_of(report, "pkcs12_opened") == DPGCERT_CHECK_FAIL);
  dpgcert_report_free(report);

  /* A DER certificate. */
  REQUIRE_OK(dpgcert_validate_bytes(&report, der, der_len, NULL, 0, &o));
  CHECK(status_of(report, "pkcs12_opened") == DPGCERT_CHECK_SKIP);
  CHECK(status_of(report, "chain") == DPGCERT_CHECK_PASS);
  dpgcert_report_free(report);

  report = (dpgcert_report *)&report;
  CHECK_RC(dpgcert_validate_bytes(&report, junk, sizeof junk, NULL, 0, &o), DPGCERT_E_MALFORMED);
  CHECK(report == NULL);
  CHECK_RC(dpgcert_validate_bytes(&report, p12, len, with_nul, sizeof with_nul, &o), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_validate_bytes(&report, p12, len, NULL, 4, &o), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_validate_bytes(&report, NULL, 4, NULL, 0, &o), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_validate_bytes(NULL, p12, len, NULL, 0, &o), DPGCERT_E_NULL_ARGUMENT);
  o.at = 0;
  CHECK_RC(dpgcert_validate_bytes(&report, der, der_len, NULL, 0, &o), DPGCERT_E_INVALID_ARGUMENT);
  free(p12);
  free(der);
  free_trust(&t);
}

static void test_report_errors(void) {
  trust_files t = read_trust();
  dpgcert_validate_options o = synthetic_options(&t);
  dpgcert_certificate *cert = load_test_certificate("oces2-prod/voces.crt.pem");
  dpgcert_report *report = NULL;
  dpgcert_certificate *out = (dpgcert_certificate *)&out;
  size_t count = 0, index = 77, len = 8;
  char buf[8];
  int v = 0;
  REQUIRE_OK(dpgcert_validate_certificate(&report, cert, &o));
  CHECK_RC(dpgcert_report_verdict(NULL, &v), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_report_verdict(report, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_report_check_count(NULL, &count), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_report_check_count(report, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_report_check_id(NULL, 0, buf, &len), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_report_check_id(report, CHECK_COUNT, buf, &len), DPGCERT_E_OUT_OF_RANGE);
  CHECK_RC(dpgcert_report_check_status(NULL, 0, &v), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_report_check_status(report, 0, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_report_check_status(report, CHECK_COUNT, &v), DPGCERT_E_OUT_OF_RANGE);
  CHECK_RC(dpgcert_report_check_message(NULL, 0, buf, &len), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_report_check_message(report, 1000, buf, &len), DPGCERT_E_OUT_OF_RANGE);
  CHECK_RC(dpgcert_report_find(report, "no_such_check", &index), DPGCERT_E_NOT_FOUND);
  CHECK(index == 77);
  CHECK_RC(dpgcert_report_find(report, NULL, &index), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_report_find(report, "chain", NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_report_find(NULL, "chain", &index), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_report_certificate(&out, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK(out == NULL);
  CHECK_RC(dpgcert_report_certificate(NULL, report), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_report_json(NULL, buf, &len), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_report_text(NULL, buf, &len), DPGCERT_E_NULL_ARGUMENT);
  dpgcert_report_free(report);
  dpgcert_report_free(NULL);
  dpgcert_certificate_free(cert);
  free_trust(&t);
}

/* Version 2: the path options of `dpgcert verify`. Version 1 structs are still read. */
static void test_path_options(void) {
  trust_files t = read_trust();
  dpgcert_certificate *cert = load_test_certificate("oces2-prod/voces.crt.pem");
  dpgcert_report *report = NULL;
  dpgcert_validate_options o;
  const char *const server_auth[] = {"serverAuth"};
  const char *const bogus[] = {"no-such-usage"};

  /* A key-size floor above the path's keys fails key_strength; 0 turns it off. */
  o = synthetic_options(&t);
  o.policy = DPGCERT_POLICY_GENERIC;
  o.min_key_bits = 8192;
  REQUIRE_OK(dpgcert_validate_certificate(&report, cert, &o));
  CHECK(status_of(report, "key_strength") == DPGCERT_CHECK_FAIL);
  dpgcert_report_free(report);
  o.min_key_bits = 0;
  REQUIRE_OK(dpgcert_validate_certificate(&report, cert, &o));
  CHECK(status_of(report, "key_strength") != DPGCERT_CHECK_FAIL);
  dpgcert_report_free(report);

  /* Revocation off: skipped even with a CRL; a required CRL missing for the chain fails. */
  o = synthetic_options(&t);
  o.crls = t.crl;
  o.crls_len = t.crl_len;
  o.revocation = DPGCERT_REVOCATION_OFF;
  REQUIRE_OK(dpgcert_validate_certificate(&report, cert, &o));
  CHECK(status_of(report, "revocation") == DPGCERT_CHECK_SKIP);
  dpgcert_report_free(report);
  o.revocation = DPGCERT_REVOCATION_CHAIN;
  o.require_revocation = 1;
  REQUIRE_OK(dpgcert_validate_certificate(&report, cert, &o));
  CHECK(status_of(report, "revocation") == DPGCERT_CHECK_FAIL); /* no CRL for the CA and the root */
  dpgcert_report_free(report);
  o.revocation = 7;
  CHECK_RC(dpgcert_validate_certificate(&report, cert, &o), DPGCERT_E_INVALID_ARGUMENT);

  /* An explicit policy the OCES path does not carry fails the chain. */
  o = synthetic_options(&t);
  o.policy = DPGCERT_POLICY_GENERIC;
  o.explicit_policy = 1;
  {
    const char *const policies[] = {"1.2.3.4"};
    o.policies = policies;
    o.policy_count = 1;
    REQUIRE_OK(dpgcert_validate_certificate(&report, cert, &o));
    CHECK(status_of(report, "chain") == DPGCERT_CHECK_FAIL);
    dpgcert_report_free(report);
  }

  /* EKU: the OCES2 leaf has no EKU extension, so any required usage is allowed; a bad name is an error. */
  o = synthetic_options(&t);
  o.ekus = server_auth;
  o.eku_count = 1;
  REQUIRE_OK(dpgcert_validate_certificate(&report, cert, &o));
  CHECK(status_of(report, "key_usage") == DPGCERT_CHECK_PASS);
  dpgcert_report_free(report);
  o.ekus = bogus;
  CHECK_RC(dpgcert_validate_certificate(&report, cert, &o), DPGCERT_E_INVALID_ARGUMENT);

  /* A version 1 caller: the new fields are not read. */
  o = synthetic_options(&t);
  o.version = 1;
  o.revocation = 7;
  REQUIRE_OK(dpgcert_validate_certificate(&report, cert, &o));
  dpgcert_report_free(report);

  dpgcert_certificate_free(cert);
  free_trust(&t);
}

static const c_test_case cases[] = {
    {"path_options", test_path_options},
    {"certificate_report", test_certificate_report},
    {"options_change_the_verdict", test_options_change_the_verdict},
    {"option_errors", test_option_errors},
    {"bundle_report", test_bundle_report},
    {"bytes_report", test_bytes_report},
    {"report_errors", test_report_errors},
};
C_TEST_MAIN(cases)
