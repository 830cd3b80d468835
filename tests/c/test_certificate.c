/* C API: loading certificates (PEM, DER, bare base64), their getters and OCES identities. */
#include "c_test.h"

static void test_load_pem_der_and_base64(void) {
  static const char *files[] = {"oces2-prod/voces-fullchain.pem", "oces2-prod/voces.crt.der",
                                "oces3-prod/organisation.cer", "oces2-prod/voces.crt.pem"};
  static const size_t counts[] = {3, 1, 1, 1};
  size_t i;
  for (i = 0; i < sizeof files / sizeof files[0]; ++i) {
    size_t len = 0, count = 0;
    uint8_t *data = read_test_file(files[i], &len);
    dpgcert_certificate_list *list = NULL;
    dpgcert_certificate *first = NULL;
    REQUIRE_OK(dpgcert_certificates_load(&list, data, len));
    REQUIRE_OK(dpgcert_certificate_list_count(list, &count));
    CHECK(count == counts[i]);
    REQUIRE_OK(dpgcert_certificate_list_get(&first, list, 0));
    dpgcert_certificate_free(first);
    dpgcert_certificate_list_free(list);
    free(data);
  }
}

static void test_load_errors(void) {
  dpgcert_certificate_list *list = (dpgcert_certificate_list *)&list; /* a non-NULL value that must be reset */
  static const uint8_t random_bytes[] = {0x9f, 0x11, 0xe2, 0x07, 0x5b, 0xc4, 0x38, 0x00, 0xfe, 0x6a};
  size_t len = 0;
  uint8_t *der = read_test_file("oces2-prod/voces.crt.der", &len);
  uint8_t *huge;

  CHECK_RC(dpgcert_certificates_load(&list, random_bytes, sizeof random_bytes), DPGCERT_E_MALFORMED);
  CHECK(list == NULL);
  CHECK_ERROR_MENTIONS("dpgcert_certificates_load");
  CHECK_RC(dpgcert_certificates_load(&list, der, len / 2), DPGCERT_E_MALFORMED); /* truncated */
  CHECK_RC(dpgcert_certificates_load(&list, NULL, 0), DPGCERT_E_MALFORMED);      /* empty */
  CHECK_RC(dpgcert_certificates_load(&list, NULL, 10), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_certificates_load(NULL, der, len), DPGCERT_E_NULL_ARGUMENT);
  /* Input past the 1 MiB limit is refused before it is parsed. */
  huge = (uint8_t *)calloc(1024 * 1024 + 1, 1);
  REQUIRE(huge != NULL);
  CHECK_RC(dpgcert_certificates_load(&list, huge, 1024 * 1024 + 1), DPGCERT_E_LIMIT_EXCEEDED);
  CHECK(list == NULL);
  free(huge);
  free(der);
}

static void test_list_errors(void) {
  size_t len = 0, count = 99;
  uint8_t *pem = read_test_file("oces2-prod/chain.pem", &len);
  dpgcert_certificate_list *list = NULL;
  dpgcert_certificate *cert = (dpgcert_certificate *)&cert;
  REQUIRE_OK(dpgcert_certificates_load(&list, pem, len));
  REQUIRE_OK(dpgcert_certificate_list_count(list, &count));
  CHECK(count == 2);
  CHECK_RC(dpgcert_certificate_list_count(NULL, &count), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_certificate_list_count(list, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_certificate_list_get(&cert, list, 2), DPGCERT_E_OUT_OF_RANGE);
  CHECK(cert == NULL);
  CHECK_RC(dpgcert_certificate_list_get(&cert, NULL, 0), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_certificate_list_get(NULL, list, 0), DPGCERT_E_NULL_ARGUMENT);
  /* A certificate handle outlives its list. */
  REQUIRE_OK(dpgcert_certificate_list_get(&cert, list, 1));
  dpgcert_certificate_list_free(list);
  {
    int64_t t = 0;
    REQUIRE_OK(dpgcert_certificate_not_after(cert, &t));
    CHECK(t == INT64_C(2208988800)); /* the root: 2040-01-01 */
  }
  dpgcert_certificate_free(cert);
  /* _free(NULL) does nothing. */
  dpgcert_certificate_list_free(NULL);
  dpgcert_certificate_free(NULL);
  free(pem);
}

static void test_getters(void) {
  size_t der_len = 0, pem_len = 0;
  uint8_t *file_der = read_test_file("oces2-prod/voces.crt.der", &der_len);
  uint8_t *file_pem = read_test_file("oces2-prod/voces.crt.pem", &pem_len);
  dpgcert_certificate *cert = load_test_certificate("oces2-prod/voces.crt.der");
  char *text = NULL;
  char expected_fp[65];
  int64_t t = 0;

  /* DER: the bytes of the file. */
  {
    uint8_t *buf = (uint8_t *)malloc(der_len);
    size_t len = der_len;
    REQUIRE(buf != NULL);
    REQUIRE_OK(dpgcert_certificate_der(cert, buf, &len));
    CHECK(len == der_len && memcmp(buf, file_der, der_len) == 0);
    free(buf);
  }
  CHECK_OUT_BYTES(dpgcert_certificate_der(cert, buf, lenp));
  /* PEM: what openssl wrote for the same certificate. */
  GET_TEXT(text, dpgcert_certificate_pem(cert, buf, lenp));
  CHECK(text != NULL && strlen(text) == pem_len && memcmp(text, file_pem, pem_len) == 0);
  free(text);
  CHECK_OUT_TEXT(dpgcert_certificate_pem(cert, buf, lenp));

  GET_TEXT(text, dpgcert_certificate_subject(cert, buf, lenp));
  CHECK(text != NULL &&
        strcmp(text, "CN=Testfirma A/S - VOCES+serialNumber=CVR:12345674-UID:1234567890123,"
                     "O=Testfirma A/S // CVR:12345674,C=DK") == 0);
  free(text);
  CHECK_OUT_TEXT(dpgcert_certificate_subject(cert, buf, lenp));
  GET_TEXT(text, dpgcert_certificate_issuer(cert, buf, lenp));
  CHECK(text != NULL && strcmp(text, "CN=TRUST2408 OCES CA V,OU=dpgcert synthetic,O=TRUST2408,C=DK") == 0);
  free(text);
  CHECK_OUT_TEXT(dpgcert_certificate_issuer(cert, buf, lenp));
  GET_TEXT(text, dpgcert_certificate_serial(cert, buf, lenp));
  CHECK(text != NULL && strcmp(text, "5a100001") == 0);
  free(text);
  CHECK_OUT_TEXT(dpgcert_certificate_serial(cert, buf, lenp));
  /* The fingerprint is OpenSSL's SHA-256 of the DER (keys are new on every run of the PKI). */
  sha256_hex(file_der, der_len, expected_fp);
  GET_TEXT(text, dpgcert_certificate_fingerprint(cert, buf, lenp));
  CHECK(text != NULL && strcmp(text, expected_fp) == 0);
  free(text);
  CHECK_OUT_TEXT(dpgcert_certificate_fingerprint(cert, buf, lenp));

  REQUIRE_OK(dpgcert_certificate_not_before(cert, &t));
  CHECK(t == INT64_C(1704067200)); /* 2024-01-01T00:00:00Z */
  REQUIRE_OK(dpgcert_certificate_not_after(cert, &t));
  CHECK(t == INT64_C(1798761600)); /* 2027-01-01T00:00:00Z */

  GET_TEXT(text, dpgcert_certificate_json(cert, buf, lenp));
  CHECK(text != NULL && strstr(text, expected_fp) != NULL);
  CHECK(text != NULL && strstr(text, "\"oces\":{") != NULL);
  CHECK(text != NULL && strstr(text, "\"type\":\"voces\"") != NULL);
  free(text);
  CHECK_OUT_TEXT(dpgcert_certificate_json(cert, buf, lenp));

  dpgcert_certificate_free(cert);
  free(file_der);
  free(file_pem);
}

static void test_getter_null_arguments(void) {
  dpgcert_certificate *cert = load_test_certificate("oces2-prod/voces.crt.pem");
  char buf[8];
  size_t len = sizeof buf;
  int64_t t = 0;
  dpgcert_identity *identity = (dpgcert_identity *)&identity;
  CHECK_RC(dpgcert_certificate_der(NULL, (uint8_t *)buf, &len), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_certificate_pem(NULL, buf, &len), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_certificate_subject(NULL, buf, &len), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_certificate_issuer(NULL, buf, &len), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_certificate_serial(NULL, buf, &len), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_certificate_fingerprint(NULL, buf, &len), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_certificate_json(NULL, buf, &len), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_certificate_not_before(NULL, &t), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_certificate_not_before(cert, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_certificate_not_after(NULL, &t), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_certificate_not_after(cert, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_certificate_identity(&identity, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK(identity == NULL);
  CHECK_RC(dpgcert_certificate_identity(NULL, cert), DPGCERT_E_NULL_ARGUMENT);
  CHECK(len == sizeof buf); /* untouched by the failed calls */
  dpgcert_certificate_free(cert);
}

static char *identity_text(const dpgcert_identity *identity, int field) {
  char *text = NULL;
  GET_TEXT(text, dpgcert_identity_text(identity, field, buf, lenp));
  return text;
}

static int text_is(const dpgcert_identity *identity, int field, const char *want) {
  char *got = identity_text(identity, field);
  int same = got != NULL && strcmp(got, want) == 0;
  if (!same) fprintf(stderr, "field %d: got '%s', want '%s'\n", field, got ? got : "(none)", want);
  free(got);
  return same;
}

static void test_identity_oces2(void) {
  dpgcert_certificate *cert = load_test_certificate("oces2-prod/voces.crt.pem");
  dpgcert_identity *identity = NULL;
  int v = -1;
  char small[4];
  size_t len = sizeof small;
  REQUIRE_OK(dpgcert_certificate_identity(&identity, cert));
  REQUIRE_OK(dpgcert_identity_int(identity, DPGCERT_IDENTITY_GENERATION, &v));
  CHECK(v == DPGCERT_GENERATION_OCES2);
  REQUIRE_OK(dpgcert_identity_int(identity, DPGCERT_IDENTITY_TYPE, &v));
  CHECK(v == DPGCERT_TYPE_VOCES);
  REQUIRE_OK(dpgcert_identity_int(identity, DPGCERT_IDENTITY_ENVIRONMENT, &v));
  CHECK(v == DPGCERT_ENVIRONMENT_PRODUCTION);
  REQUIRE_OK(dpgcert_identity_int(identity, DPGCERT_IDENTITY_CVR_VALID, &v));
  CHECK(v == 1);
  CHECK(text_is(identity, DPGCERT_IDENTITY_CVR, "12345674"));
  CHECK(text_is(identity, DPGCERT_IDENTITY_ID, "1234567890123"));
  CHECK(text_is(identity, DPGCERT_IDENTITY_UID, "1234567890123"));
  CHECK(text_is(identity, DPGCERT_IDENTITY_SUBJECT_SERIAL, "CVR:12345674-UID:1234567890123"));
  CHECK(text_is(identity, DPGCERT_IDENTITY_ORGANISATION, "Testfirma A/S"));
  CHECK(text_is(identity, DPGCERT_IDENTITY_COMMON_NAME, "Testfirma A/S - VOCES"));
  CHECK(text_is(identity, DPGCERT_IDENTITY_EMAIL, "it@testfirma.dk")); /* the rfc822Name SAN */
  CHECK(text_is(identity, DPGCERT_IDENTITY_SUMMARY,
                "OCES2 VOCES (company), production, CVR 12345674, UID 1234567890123, Testfirma A/S"));
  {
    char *json = identity_text(identity, DPGCERT_IDENTITY_JSON);
    CHECK(json != NULL && strstr(json, "\"uid\":\"1234567890123\"") != NULL);
    CHECK(json != NULL && strstr(json, "\"warnings\":[]") != NULL);
    free(json);
  }
  /* Fields that do not apply to a VOCES certificate are absent. */
  CHECK_RC(dpgcert_identity_text(identity, DPGCERT_IDENTITY_FID, small, &len), DPGCERT_E_NOT_FOUND);
  CHECK_RC(dpgcert_identity_text(identity, DPGCERT_IDENTITY_RID, small, &len), DPGCERT_E_NOT_FOUND);
  CHECK_RC(dpgcert_identity_text(identity, DPGCERT_IDENTITY_PID, small, &len), DPGCERT_E_NOT_FOUND);
  CHECK_RC(dpgcert_identity_text(identity, DPGCERT_IDENTITY_UUID, small, &len), DPGCERT_E_NOT_FOUND);
  /* The synthetic CA is not in the built-in catalogue of real OCES CAs. */
  CHECK_RC(dpgcert_identity_text(identity, DPGCERT_IDENTITY_ISSUING_CA, small, &len), DPGCERT_E_NOT_FOUND);
  CHECK_ERROR_MENTIONS("dpgcert_identity_text");
  CHECK(len == sizeof small);
  CHECK_OUT_TEXT(dpgcert_identity_text(identity, DPGCERT_IDENTITY_CVR, buf, lenp));
  CHECK_OUT_TEXT(dpgcert_identity_text(identity, DPGCERT_IDENTITY_SUMMARY, buf, lenp));
  CHECK_OUT_TEXT(dpgcert_identity_text(identity, DPGCERT_IDENTITY_JSON, buf, lenp));
  dpgcert_identity_free(identity);
  dpgcert_certificate_free(cert);
}

static void test_identity_other_kinds(void) {
  dpgcert_certificate *org = load_test_certificate("oces3-prod/organisation.crt.pem");
  dpgcert_certificate *foces = load_test_certificate("oces2-test/foces.crt.pem");
  dpgcert_certificate *moces = load_test_certificate("oces2-prod/moces.crt.pem");
  dpgcert_certificate *poces = load_test_certificate("oces2-prod/poces.crt.pem");
  dpgcert_certificate *bad_cvr = load_test_certificate("odd/voces-bad-cvr.crt.pem");
  dpgcert_certificate *server = load_test_certificate("other/server.crt.pem");
  dpgcert_identity *id = NULL;
  int v = -1;

  REQUIRE_OK(dpgcert_certificate_identity(&id, org));
  REQUIRE_OK(dpgcert_identity_int(id, DPGCERT_IDENTITY_GENERATION, &v));
  CHECK(v == DPGCERT_GENERATION_OCES3);
  REQUIRE_OK(dpgcert_identity_int(id, DPGCERT_IDENTITY_TYPE, &v));
  CHECK(v == DPGCERT_TYPE_ORGANISATION);
  CHECK(text_is(id, DPGCERT_IDENTITY_UUID, "3f6c2a8e-5b1d-4c7e-9a02-6e8d4b1f7c35"));
  CHECK(text_is(id, DPGCERT_IDENTITY_ID, "3f6c2a8e-5b1d-4c7e-9a02-6e8d4b1f7c35"));
  dpgcert_identity_free(id);

  REQUIRE_OK(dpgcert_certificate_identity(&id, foces));
  REQUIRE_OK(dpgcert_identity_int(id, DPGCERT_IDENTITY_ENVIRONMENT, &v));
  CHECK(v == DPGCERT_ENVIRONMENT_TEST);
  REQUIRE_OK(dpgcert_identity_int(id, DPGCERT_IDENTITY_TYPE, &v));
  CHECK(v == DPGCERT_TYPE_FOCES);
  {
    char *fid = identity_text(id, DPGCERT_IDENTITY_FID);
    char *any = identity_text(id, DPGCERT_IDENTITY_ID);
    CHECK(fid != NULL && any != NULL && strcmp(fid, any) == 0);
    free(fid);
    free(any);
  }
  dpgcert_identity_free(id);

  REQUIRE_OK(dpgcert_certificate_identity(&id, moces));
  {
    char *rid = identity_text(id, DPGCERT_IDENTITY_RID);
    CHECK(rid != NULL && strlen(rid) > 0);
    free(rid);
  }
  dpgcert_identity_free(id);

  REQUIRE_OK(dpgcert_certificate_identity(&id, poces));
  {
    char *pid = identity_text(id, DPGCERT_IDENTITY_PID);
    CHECK(pid != NULL && strlen(pid) > 0);
    free(pid);
  }
  dpgcert_identity_free(id);

  REQUIRE_OK(dpgcert_certificate_identity(&id, bad_cvr));
  REQUIRE_OK(dpgcert_identity_int(id, DPGCERT_IDENTITY_CVR_VALID, &v));
  CHECK(v == 0);
  dpgcert_identity_free(id);

  /* Not OCES: generation none, and no CVR to judge. */
  REQUIRE_OK(dpgcert_certificate_identity(&id, server));
  REQUIRE_OK(dpgcert_identity_int(id, DPGCERT_IDENTITY_GENERATION, &v));
  CHECK(v == DPGCERT_GENERATION_NONE);
  REQUIRE_OK(dpgcert_identity_int(id, DPGCERT_IDENTITY_TYPE, &v));
  CHECK(v == DPGCERT_TYPE_NONE);
  v = 42;
  CHECK_RC(dpgcert_identity_int(id, DPGCERT_IDENTITY_CVR_VALID, &v), DPGCERT_E_NOT_FOUND);
  CHECK(v == 42);
  CHECK(text_is(id, DPGCERT_IDENTITY_SUMMARY, "not an OCES certificate"));
  dpgcert_identity_free(id);

  dpgcert_certificate_free(org);
  dpgcert_certificate_free(foces);
  dpgcert_certificate_free(moces);
  dpgcert_certificate_free(poces);
  dpgcert_certificate_free(bad_cvr);
  dpgcert_certificate_free(server);
}

static void test_identity_errors(void) {
  dpgcert_certificate *cert = load_test_certificate("oces2-prod/voces.crt.pem");
  dpgcert_identity *id = NULL;
  int v = 0;
  char buf[64];
  size_t len = sizeof buf;
  REQUIRE_OK(dpgcert_certificate_identity(&id, cert));
  CHECK_RC(dpgcert_identity_int(NULL, DPGCERT_IDENTITY_TYPE, &v), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_identity_int(id, DPGCERT_IDENTITY_TYPE, NULL), DPGCERT_E_NULL_ARGUMENT);
  /* A text field asked as an integer, an integer field asked as text, and unknown fields. */
  CHECK_RC(dpgcert_identity_int(id, DPGCERT_IDENTITY_CVR, &v), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_identity_int(id, 0, &v), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_identity_text(id, DPGCERT_IDENTITY_TYPE, buf, &len), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_identity_text(id, 999, buf, &len), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_identity_text(NULL, DPGCERT_IDENTITY_CVR, buf, &len), DPGCERT_E_NULL_ARGUMENT);
  dpgcert_identity_free(id);
  dpgcert_identity_free(NULL);
  dpgcert_certificate_free(cert);
}

static const c_test_case cases[] = {
    {"load_pem_der_and_base64", test_load_pem_der_and_base64},
    {"load_errors", test_load_errors},
    {"list_errors", test_list_errors},
    {"getters", test_getters},
    {"getter_null_arguments", test_getter_null_arguments},
    {"identity_oces2", test_identity_oces2},
    {"identity_other_kinds", test_identity_other_kinds},
    {"identity_errors", test_identity_errors},
};
C_TEST_MAIN(cases)
