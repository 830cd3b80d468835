/* C API: versions, status codes, the thread-local last error, enumeration names. */
#define _POSIX_C_SOURCE 200809L
#include "c_test.h"

#include <pthread.h>

static void test_versions(void) {
  CHECK(strcmp(dpgcert_version(), DPGCERT_EXPECTED_VERSION) == 0);
  CHECK(dpgcert_abi_version() == DPGCERT_C_ABI_VERSION);
  CHECK(DPGCERT_C_ABI_VERSION >= 1);
}

static void test_error_names(void) {
  static const struct {
    int code;
    const char *name;
  } names[] = {
      {DPGCERT_OK, "ok"},
      {DPGCERT_E_BAD_PASSWORD, "bad_password"},
      {DPGCERT_E_MALFORMED, "malformed"},
      {DPGCERT_E_UNSUPPORTED, "unsupported"},
      {DPGCERT_E_LIMIT_EXCEEDED, "limit_exceeded"},
      {DPGCERT_E_NOT_FOUND, "not_found"},
      {DPGCERT_E_CONFLICT, "conflict"},
      {DPGCERT_E_IO, "io"},
      {DPGCERT_E_INVALID_ARGUMENT, "invalid_argument"},
      {DPGCERT_E_INTERNAL, "internal"},
      {DPGCERT_E_LOCKED, "locked"},
      {DPGCERT_E_NULL_ARGUMENT, "null_argument"},
      {DPGCERT_E_BUFFER_TOO_SMALL, "buffer_too_small"},
      {DPGCERT_E_OUT_OF_RANGE, "out_of_range"},
      {DPGCERT_E_VERSION, "version"},
  };
  size_t i;
  for (i = 0; i < sizeof names / sizeof names[0]; ++i) CHECK(strcmp(dpgcert_error_name(names[i].code), names[i].name) == 0);
  /* The library's codes are dpgcert::ErrorCode negated: the ABI promises these numbers. */
  CHECK(DPGCERT_E_BAD_PASSWORD == -1 && DPGCERT_E_INTERNAL == -9);
  CHECK(DPGCERT_E_LOCKED == -10);
  CHECK(strcmp(dpgcert_error_name(-11), "unknown") == 0);
  CHECK(strcmp(dpgcert_error_name(1), "unknown") == 0);
  CHECK(strcmp(dpgcert_error_name(-99), "unknown") == 0);
  CHECK(strcmp(dpgcert_error_name(-104), "unknown") == 0);
}

static void test_enum_names(void) {
  static const struct {
    int kind, value;
    const char *name;
  } names[] = {
      {DPGCERT_ENUM_GENERATION, DPGCERT_GENERATION_NONE, "none"},
      {DPGCERT_ENUM_GENERATION, DPGCERT_GENERATION_OCES2, "oces2"},
      {DPGCERT_ENUM_GENERATION, DPGCERT_GENERATION_OCES3, "oces3"},
      {DPGCERT_ENUM_CERTIFICATE_TYPE, DPGCERT_TYPE_NONE, "none"},
      {DPGCERT_ENUM_CERTIFICATE_TYPE, DPGCERT_TYPE_VOCES, "voces"},
      {DPGCERT_ENUM_CERTIFICATE_TYPE, DPGCERT_TYPE_FOCES, "foces"},
      {DPGCERT_ENUM_CERTIFICATE_TYPE, DPGCERT_TYPE_MOCES, "moces"},
      {DPGCERT_ENUM_CERTIFICATE_TYPE, DPGCERT_TYPE_POCES, "poces"},
      {DPGCERT_ENUM_CERTIFICATE_TYPE, DPGCERT_TYPE_ORGANISATION, "organisation"},
      {DPGCERT_ENUM_CERTIFICATE_TYPE, DPGCERT_TYPE_EMPLOYEE, "employee"},
      {DPGCERT_ENUM_CERTIFICATE_TYPE, DPGCERT_TYPE_ROOT_CA, "root_ca"},
      {DPGCERT_ENUM_CERTIFICATE_TYPE, DPGCERT_TYPE_ISSUING_CA, "issuing_ca"},
      {DPGCERT_ENUM_ENVIRONMENT, DPGCERT_ENVIRONMENT_UNKNOWN, "unknown"},
      {DPGCERT_ENUM_ENVIRONMENT, DPGCERT_ENVIRONMENT_PRODUCTION, "production"},
      {DPGCERT_ENUM_ENVIRONMENT, DPGCERT_ENVIRONMENT_TEST, "test"},
      {DPGCERT_ENUM_CHECK_STATUS, DPGCERT_CHECK_PASS, "pass"},
      {DPGCERT_ENUM_CHECK_STATUS, DPGCERT_CHECK_WARN, "warn"},
      {DPGCERT_ENUM_CHECK_STATUS, DPGCERT_CHECK_FAIL, "fail"},
      {DPGCERT_ENUM_CHECK_STATUS, DPGCERT_CHECK_SKIP, "skip"},
      {DPGCERT_ENUM_CERTIFICATE_STATUS, DPGCERT_STATUS_ACTIVE, "active"},
      {DPGCERT_ENUM_CERTIFICATE_STATUS, DPGCERT_STATUS_SUPERSEDED, "superseded"},
      {DPGCERT_ENUM_CERTIFICATE_STATUS, DPGCERT_STATUS_REVOKED, "revoked"},
      {DPGCERT_ENUM_CERTIFICATE_STATUS, DPGCERT_STATUS_RETIRED, "retired"},
      {DPGCERT_ENUM_IMPORT_OUTCOME, DPGCERT_IMPORT_IMPORTED, "imported"},
      {DPGCERT_ENUM_IMPORT_OUTCOME, DPGCERT_IMPORT_ALREADY_PRESENT, "already_present"},
      {DPGCERT_ENUM_IMPORT_OUTCOME, DPGCERT_IMPORT_REFUSED, "refused"},
      {DPGCERT_ENUM_EVENT_KIND, DPGCERT_EVENT_KIND_EXPIRING, "expiring"},
      {DPGCERT_ENUM_EVENT_KIND, DPGCERT_EVENT_KIND_EXPIRED, "expired"},
      {DPGCERT_ENUM_EVENT_KIND, DPGCERT_EVENT_KIND_RENEWED, "renewed"},
      {DPGCERT_ENUM_EVENT_KIND, DPGCERT_EVENT_KIND_REVOKED, "revoked"},
      {DPGCERT_ENUM_EVENT_KIND, DPGCERT_EVENT_KIND_VALIDATION_FAILED, "validation_failed"},
      {DPGCERT_ENUM_SEVERITY, DPGCERT_SEVERITY_NONE, "none"},
      {DPGCERT_ENUM_SEVERITY, DPGCERT_SEVERITY_WARNING, "warning"},
      {DPGCERT_ENUM_SEVERITY, DPGCERT_SEVERITY_CRITICAL, "critical"},
  };
  static const int kinds[] = {DPGCERT_ENUM_GENERATION,         DPGCERT_ENUM_CERTIFICATE_TYPE,
                              DPGCERT_ENUM_ENVIRONMENT,        DPGCERT_ENUM_CHECK_STATUS,
                              DPGCERT_ENUM_CERTIFICATE_STATUS, DPGCERT_ENUM_IMPORT_OUTCOME,
                              DPGCERT_ENUM_EVENT_KIND,         DPGCERT_ENUM_SEVERITY};
  size_t i;
  for (i = 0; i < sizeof names / sizeof names[0]; ++i) {
    const char *got = dpgcert_enum_name(names[i].kind, names[i].value);
    CHECK(got != NULL && strcmp(got, names[i].name) == 0);
  }
  for (i = 0; i < sizeof kinds / sizeof kinds[0]; ++i) {
    CHECK(dpgcert_enum_name(kinds[i], 99) == NULL);
    CHECK(dpgcert_enum_name(kinds[i], -2) == NULL);
  }
  CHECK(dpgcert_enum_name(DPGCERT_ENUM_CERTIFICATE_STATUS, DPGCERT_STATUS_ANY) == NULL);
  CHECK(dpgcert_enum_name(0, 0) == NULL);
  CHECK(dpgcert_enum_name(9, 0) == NULL);
}

static void test_last_error_is_set_and_cleared(void) {
  dpgcert_certificate_list *list = NULL;
  static const uint8_t junk[] = {1, 2, 3, 4};
  size_t count = 0;
  /* A failure records a message naming the function; a success empties it again. */
  CHECK_RC(dpgcert_certificates_load(&list, junk, sizeof junk), DPGCERT_E_MALFORMED);
  CHECK(list == NULL);
  CHECK_ERROR_MENTIONS("dpgcert_certificates_load");
  CHECK(strcmp(dpgcert_error_last(), dpgcert_error_last()) == 0);
  CHECK_RC(dpgcert_certificate_list_count(NULL, &count), DPGCERT_E_NULL_ARGUMENT);
  CHECK(strstr(dpgcert_error_last(), "dpgcert_certificate_list_count: argument 'list' is NULL") != NULL);
  {
    size_t len = 0;
    uint8_t *pem = read_test_file("oces2-prod/voces.crt.pem", &len);
    REQUIRE_OK(dpgcert_certificates_load(&list, pem, len));
    CHECK(strcmp(dpgcert_error_last(), "") == 0);
    dpgcert_certificate_list_free(list);
    free(pem);
  }
}

/* The last error belongs to the thread that made it. */
static void *fail_in_thread(void *arg) {
  dpgcert_pkcs12 *bundle = NULL;
  static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01};
  (void)arg;
  if (strcmp(dpgcert_error_last(), "") != 0) return (void *)"a new thread starts with a message";
  if (dpgcert_pkcs12_load(&bundle, junk, sizeof junk, NULL, 0) != DPGCERT_E_MALFORMED) return (void *)"no malformed";
  if (strncmp(dpgcert_error_last(), "dpgcert_pkcs12_load: ", 21) != 0) return (void *)"no message in the thread";
  return NULL;
}

static void test_last_error_is_per_thread(void) {
  pthread_t thread;
  void *result = (void *)"not run";
  size_t count = 0;
  CHECK_RC(dpgcert_report_check_count(NULL, &count), DPGCERT_E_NULL_ARGUMENT);
  REQUIRE(pthread_create(&thread, NULL, fail_in_thread, NULL) == 0);
  REQUIRE(pthread_join(thread, &result) == 0);
  if (result != NULL) fprintf(stderr, "thread: %s\n", (const char *)result);
  CHECK(result == NULL);
  /* This thread's message is still its own. */
  CHECK(strstr(dpgcert_error_last(), "dpgcert_report_check_count: ") == dpgcert_error_last());
}

/* A message longer than the buffer is cut without splitting a UTF-8 character. */
static void test_long_messages_are_cut_cleanly(void) {
  char id[5000];
  size_t index = 0;
  dpgcert_report *report = NULL;
  dpgcert_certificate *cert = load_test_certificate("oces2-prod/voces.crt.pem");
  dpgcert_validate_options options = DPGCERT_VALIDATE_OPTIONS_INIT;
  size_t i, n;
  const char *msg;
  options.at = TEST_TIME;
  REQUIRE_OK(dpgcert_validate_certificate(&report, cert, &options));
  for (i = 0; i + 2 < sizeof id; i += 2) {
    id[i] = (char)0xC3; /* "æ" in UTF-8 */
    id[i + 1] = (char)0xA6;
  }
  id[i] = '\0';
  CHECK_RC(dpgcert_report_find(report, id, &index), DPGCERT_E_NOT_FOUND);
  msg = dpgcert_error_last();
  n = strlen(msg);
  CHECK(n > 1000 && n < 4096);
  /* The last byte is the end of a character: the lead byte 0xC3 never ends the text. */
  CHECK((unsigned char)msg[n - 1] != 0xC3);
  dpgcert_report_free(report);
  dpgcert_certificate_free(cert);
}

static const c_test_case cases[] = {
    {"versions", test_versions},
    {"error_names", test_error_names},
    {"enum_names", test_enum_names},
    {"last_error_is_set_and_cleared", test_last_error_is_set_and_cleared},
    {"last_error_is_per_thread", test_last_error_is_per_thread},
    {"long_messages_are_cut_cleanly", test_long_messages_are_cut_cleanly},
};
C_TEST_MAIN(cases)
