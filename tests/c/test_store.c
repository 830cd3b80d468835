/* C API: the inventory store: create/open, import, queries, the gateway's current bundle. */
#define _POSIX_C_SOURCE 200809L
#include "c_test.h"

#include <sqlite3.h>
#include <sys/stat.h>

static dpgcert_store *new_store(const scratch *s) {
  dpgcert_store_options o = DPGCERT_STORE_OPTIONS_INIT;
  dpgcert_store *store = NULL;
  o.key_file = s->key;
  o.actor = "c-test";
  o.now = TEST_TIME;
  if (dpgcert_store_create(&store, s->db, &o) != DPGCERT_OK) {
    fprintf(stderr, "cannot create a store: %s\n", dpgcert_error_last());
    exit(2);
  }
  return store;
}

typedef struct pki {
  uint8_t *root, *crl;
  size_t root_len, crl_len;
  dpgcert_validate_options validation;
} pki;

static pki read_pki(void) {
  pki p;
  dpgcert_validate_options v = DPGCERT_VALIDATE_OPTIONS_INIT;
  p.root = read_test_file("oces2-prod/root.crt.pem", &p.root_len);
  p.crl = read_test_file("oces2-prod/crl-current.crl.der", &p.crl_len);
  v.at = TEST_TIME;
  v.trust = p.root;
  v.trust_len = p.root_len;
  p.validation = v;
  return p;
}

static void free_pki(pki *p) {
  free(p->root);
  free(p->crl);
}

/* Imports a file of the synthetic PKI; returns the outcome (or the error code). */
static int import_file(dpgcert_store *store, const char *file, const dpgcert_import_options *o,
                       dpgcert_import_result **result) {
  size_t len = 0;
  uint8_t *data = read_test_file(file, &len);
  int rc = dpgcert_store_import(result, store, data, len, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN, o);
  int outcome = -1;
  free(data);
  if (rc != DPGCERT_OK) return rc;
  if (dpgcert_import_result_outcome(*result, &outcome) != DPGCERT_OK) return -1000;
  return outcome;
}

static char *file_fingerprint(const char *cert_file) {
  dpgcert_certificate *cert = load_test_certificate(cert_file);
  char *fp = NULL;
  GET_TEXT(fp, dpgcert_certificate_fingerprint(cert, buf, lenp));
  dpgcert_certificate_free(cert);
  return fp;
}

static void test_create_and_open(void) {
  scratch s = make_scratch("dpgcert-c-store");
  dpgcert_store_options o = DPGCERT_STORE_OPTIONS_INIT;
  dpgcert_store *store = new_store(&s), *again = (dpgcert_store *)&again;
  struct stat st;
  size_t count = 9;
  CHECK(stat(s.key, &st) == 0 && (st.st_mode & 0777) == 0600); /* the key file was made, mode 0600 */
  REQUIRE_OK(dpgcert_store_count(store, NULL, &count));
  CHECK(count == 0);
  dpgcert_store_free(store);

  /* A second store at the same place conflicts. */
  o.key_file = s.key;
  CHECK_RC(dpgcert_store_create(&again, s.db, &o), DPGCERT_E_CONFLICT);
  CHECK(again == NULL);
  CHECK_ERROR_MENTIONS("dpgcert_store_create");
  REQUIRE_OK(dpgcert_store_open(&again, s.db, NULL));
  REQUIRE_OK(dpgcert_store_count(again, NULL, &count));
  CHECK(count == 0);
  dpgcert_store_free(again);
  dpgcert_store_free(NULL);

  /* A store from a newer dpgcert: its schema version is higher than this library knows. */
  {
    sqlite3 *db = NULL;
    REQUIRE(sqlite3_open(s.db, &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "INSERT INTO schema_version VALUES (9999, 0, 'from the future')", NULL, NULL, NULL) ==
            SQLITE_OK);
    sqlite3_close(db);
    again = (dpgcert_store *)&again;
    CHECK_RC(dpgcert_store_open(&again, s.db, NULL), DPGCERT_E_UNSUPPORTED);
    CHECK(again == NULL);
    CHECK(strstr(dpgcert_error_last(), "schema version 9999") != NULL);
  }
  remove_scratch(&s);
}

static void test_create_and_open_errors(void) {
  scratch s = make_scratch("dpgcert-c-store");
  dpgcert_store_options o = DPGCERT_STORE_OPTIONS_INIT;
  dpgcert_store *store = (dpgcert_store *)&store;
  char path[600];
  FILE *f;

  CHECK_RC(dpgcert_store_create(&store, s.db, &o), DPGCERT_E_INVALID_ARGUMENT); /* no key source */
  CHECK(store == NULL);
  CHECK_RC(dpgcert_store_create(&store, s.db, NULL), DPGCERT_E_INVALID_ARGUMENT);
  o.key_file = s.key;
  o.version = 0;
  CHECK_RC(dpgcert_store_create(&store, s.db, &o), DPGCERT_E_VERSION);
  o.version = DPGCERT_STORE_OPTIONS_VERSION;
  CHECK_RC(dpgcert_store_create(&store, NULL, &o), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_store_create(NULL, s.db, &o), DPGCERT_E_NULL_ARGUMENT);
  o.passphrase = NULL;
  o.passphrase_len = 3;
  CHECK_RC(dpgcert_store_create(&store, s.db, &o), DPGCERT_E_NULL_ARGUMENT);
  o.passphrase_len = 0;
  snprintf(path, sizeof path, "%s/no/such/folder/store.db", s.dir);
  CHECK_RC(dpgcert_store_create(&store, path, &o), DPGCERT_E_NOT_FOUND);

  /* Opening: nothing there, not a store, a folder, bad arguments. */
  snprintf(path, sizeof path, "%s/absent.db", s.dir);
  CHECK_RC(dpgcert_store_open(&store, path, NULL), DPGCERT_E_NOT_FOUND);
  CHECK(store == NULL);
  CHECK_ERROR_MENTIONS("dpgcert_store_open");
  snprintf(path, sizeof path, "%s/junk.db", s.dir);
  f = fopen(path, "wb");
  REQUIRE(f != NULL);
  fputs("this is not an SQLite database, and certainly not a dpgcert store\n", f);
  fclose(f);
  CHECK_RC(dpgcert_store_open(&store, path, NULL), DPGCERT_E_MALFORMED);
  CHECK_RC(dpgcert_store_open(&store, s.dir, NULL), DPGCERT_E_NOT_FOUND); /* a folder: no database there */
  o.version = 2;
  CHECK_RC(dpgcert_store_open(&store, path, &o), DPGCERT_E_VERSION);
  CHECK_RC(dpgcert_store_open(&store, NULL, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_store_open(NULL, path, NULL), DPGCERT_E_NULL_ARGUMENT);
  remove_scratch(&s);
}

static void test_passphrase_store(void) {
  scratch s = make_scratch("dpgcert-c-store");
  pki p = read_pki();
  dpgcert_store_options o = DPGCERT_STORE_OPTIONS_INIT;
  dpgcert_import_options io = DPGCERT_IMPORT_OPTIONS_INIT;
  dpgcert_store *store = NULL;
  dpgcert_import_result *result = NULL;
  dpgcert_pkcs12 *bundle = NULL;
  static const uint8_t passphrase[] = "correct horse battery staple";
  static const uint8_t wrong[] = "incorrect horse";

  o.passphrase = passphrase;
  o.passphrase_len = sizeof passphrase - 1;
  o.argon2_memory_kib = 8; /* tiny Argon2id cost: a test, not a real store */
  o.argon2_iterations = 1;
  o.argon2_parallelism = 1;
  o.now = TEST_TIME;
  REQUIRE_OK(dpgcert_store_create(&store, s.db, &o));
  io.mailbox = "sikkerpost@testfirma.dk";
  io.validation = &p.validation;
  CHECK(import_file(store, "oces2-prod/foces.p12", &io, &result) == DPGCERT_IMPORT_IMPORTED);
  dpgcert_import_result_free(result);
  dpgcert_store_free(store);

  /* Reopened with the passphrase, the sealed bundle opens; with another, the key is wrong. */
  REQUIRE_OK(dpgcert_store_open(&store, s.db, &o));
  REQUIRE_OK(dpgcert_store_current_bundle(&bundle, store, "sikkerpost@testfirma.dk"));
  CHECK(bundle != NULL);
  dpgcert_pkcs12_free(bundle);
  dpgcert_store_free(store);
  o.passphrase = wrong;
  o.passphrase_len = sizeof wrong - 1;
  REQUIRE_OK(dpgcert_store_open(&store, s.db, &o));
  bundle = (dpgcert_pkcs12 *)&bundle;
  CHECK_RC(dpgcert_store_current_bundle(&bundle, store, "sikkerpost@testfirma.dk"), DPGCERT_E_BAD_PASSWORD);
  CHECK(bundle == NULL);
  CHECK(strstr(dpgcert_error_last(), "incorrect horse") == NULL);
  dpgcert_store_free(store);
  /* Without a passphrase the inventory reads, but nothing can be unsealed. */
  REQUIRE_OK(dpgcert_store_open(&store, s.db, NULL));
  {
    size_t count = 0;
    REQUIRE_OK(dpgcert_store_count(store, NULL, &count));
    CHECK(count == 1);
  }
  CHECK_RC(dpgcert_store_current_bundle(&bundle, store, "sikkerpost@testfirma.dk"), DPGCERT_E_INVALID_ARGUMENT);
  dpgcert_store_free(store);
  free_pki(&p);
  remove_scratch(&s);
}

static void test_import_outcomes(void) {
  scratch s = make_scratch("dpgcert-c-store");
  pki p = read_pki();
  dpgcert_store *store = new_store(&s);
  dpgcert_import_options io = DPGCERT_IMPORT_OPTIONS_INIT;
  dpgcert_import_result *result = NULL;
  dpgcert_report *report = NULL;
  char *fp = NULL, *expected = file_fingerprint("oces2-prod/foces.crt.pem");
  size_t count = 9;
  int verdict = -1;

  io.organisation_cvr = "12345674";
  io.mailbox = "sikkerpost@testfirma.dk";
  io.source = "test_store.c";
  io.actor = "c-test";
  io.validation = &p.validation;
  REQUIRE(import_file(store, "oces2-prod/foces.p12", &io, &result) == DPGCERT_IMPORT_IMPORTED);
  GET_TEXT(fp, dpgcert_import_result_fingerprint(result, buf, lenp));
  CHECK(fp != NULL && expected != NULL && strcmp(fp, expected) == 0);
  free(fp);
  CHECK_OUT_TEXT(dpgcert_import_result_fingerprint(result, buf, lenp));
  REQUIRE_OK(dpgcert_import_result_report(&report, result));
  REQUIRE_OK(dpgcert_report_verdict(report, &verdict));
  CHECK(verdict == DPGCERT_CHECK_WARN);
  dpgcert_report_free(report);
  REQUIRE_OK(dpgcert_import_result_superseded_count(result, &count));
  CHECK(count == 0);
  dpgcert_import_result_free(result);

  /* Again: idempotent, and not validated again. */
  REQUIRE(import_file(store, "oces2-prod/foces.p12", &io, &result) == DPGCERT_IMPORT_ALREADY_PRESENT);
  report = (dpgcert_report *)&report;
  CHECK_RC(dpgcert_import_result_report(&report, result), DPGCERT_E_NOT_FOUND);
  CHECK(report == NULL);
  dpgcert_import_result_free(result);

  /* The same certificate for another mailbox conflicts. */
  io.mailbox = "other@testfirma.dk";
  CHECK(import_file(store, "oces2-prod/foces.p12", &io, &result) == DPGCERT_E_CONFLICT);
  CHECK(result == NULL);

  /* An expired certificate fails validation: refused, unless forced. */
  io.mailbox = NULL;
  REQUIRE(import_file(store, "odd/foces-expired.p12", &io, &result) == DPGCERT_IMPORT_REFUSED);
  REQUIRE_OK(dpgcert_import_result_report(&report, result));
  REQUIRE_OK(dpgcert_report_verdict(report, &verdict));
  CHECK(verdict == DPGCERT_CHECK_FAIL);
  dpgcert_report_free(report);
  dpgcert_import_result_free(result);
  REQUIRE_OK(dpgcert_store_count(store, NULL, &count));
  CHECK(count == 1);
  io.force = 1;
  REQUIRE(import_file(store, "odd/foces-expired.p12", &io, &result) == DPGCERT_IMPORT_IMPORTED);
  dpgcert_import_result_free(result);
  REQUIRE_OK(dpgcert_store_count(store, NULL, &count));
  CHECK(count == 2);

  /* Without validation options the store validates at its own clock against the built-in OCES
   * roots, which do not know the synthetic PKI: refused. */
  io.force = 0;
  io.validation = NULL;
  REQUIRE(import_file(store, "oces2-test/foces.p12", &io, &result) == DPGCERT_IMPORT_REFUSED);
  dpgcert_import_result_free(result);

  free(expected);
  dpgcert_store_free(store);
  free_pki(&p);
  remove_scratch(&s);
}

static void test_import_errors(void) {
  scratch s = make_scratch("dpgcert-c-store");
  pki p = read_pki();
  dpgcert_store *store = new_store(&s);
  dpgcert_import_options io = DPGCERT_IMPORT_OPTIONS_INIT;
  dpgcert_import_result *result = (dpgcert_import_result *)&result;
  size_t len = 0;
  uint8_t *data = read_test_file("oces2-prod/foces.p12", &len);
  uint8_t *ca_only;
  size_t ca_len = 0;
  static const uint8_t wrong[] = "nope";
  io.validation = &p.validation;

  CHECK_RC(dpgcert_store_import(&result, store, data, len, wrong, sizeof wrong - 1, &io), DPGCERT_E_BAD_PASSWORD);
  CHECK(result == NULL);
  CHECK_ERROR_MENTIONS("dpgcert_store_import");
  CHECK_RC(dpgcert_store_import(&result, store, data, len / 2, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN, &io),
           DPGCERT_E_MALFORMED);
  /* A bundle without a key and a leaf cannot serve a mailbox. */
  ca_only = read_file_at(binding_data_dir(), "ca-only.p12", &ca_len);
  CHECK_RC(dpgcert_store_import(&result, store, ca_only, ca_len, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN, &io),
           DPGCERT_E_INVALID_ARGUMENT);
  free(ca_only);
  io.organisation_cvr = "1234";
  CHECK_RC(dpgcert_store_import(&result, store, data, len, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN, &io),
           DPGCERT_E_INVALID_ARGUMENT);
  io.organisation_cvr = NULL;
  io.version = 0;
  CHECK_RC(dpgcert_store_import(&result, store, data, len, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN, &io),
           DPGCERT_E_VERSION);
  io.version = DPGCERT_IMPORT_OPTIONS_VERSION;
  p.validation.version = 0;
  CHECK_RC(dpgcert_store_import(&result, store, data, len, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN, &io),
           DPGCERT_E_VERSION);
  p.validation.version = DPGCERT_VALIDATE_OPTIONS_VERSION;
  CHECK_RC(dpgcert_store_import(&result, NULL, data, len, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN, &io),
           DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_store_import(NULL, store, data, len, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN, &io),
           DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_store_import(&result, store, NULL, len, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN, &io),
           DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_store_import(&result, store, data, len, NULL, 3, &io), DPGCERT_E_NULL_ARGUMENT);
  {
    size_t count = 9;
    REQUIRE_OK(dpgcert_store_count(store, NULL, &count));
    CHECK(count == 0); /* nothing got in */
  }
  free(data);
  dpgcert_store_free(store);
  free_pki(&p);
  remove_scratch(&s);
}

static void test_supersede_and_result_errors(void) {
  scratch s = make_scratch("dpgcert-c-store");
  pki p = read_pki();
  dpgcert_store *store = new_store(&s);
  dpgcert_import_options io = DPGCERT_IMPORT_OPTIONS_INIT;
  dpgcert_import_result *result = NULL;
  char *old_fp = file_fingerprint("odd/foces-expiring-soon.crt.pem");
  char *superseded = NULL;
  size_t count = 0, len = 8;
  char small[8];
  int v = 0;
  dpgcert_report *report = (dpgcert_report *)&report;

  io.mailbox = "sikkerpost@testfirma.dk";
  io.validation = &p.validation;
  /* The older certificate first, then its renewal for the same mailbox. */
  REQUIRE(import_file(store, "odd/foces-expiring-soon.p12", &io, &result) == DPGCERT_IMPORT_IMPORTED);
  dpgcert_import_result_free(result);
  REQUIRE(import_file(store, "oces2-prod/foces.p12", &io, &result) == DPGCERT_IMPORT_IMPORTED);
  REQUIRE_OK(dpgcert_import_result_superseded_count(result, &count));
  REQUIRE(count == 1);
  GET_TEXT(superseded, dpgcert_import_result_superseded(result, 0, buf, lenp));
  CHECK(superseded != NULL && old_fp != NULL && strcmp(superseded, old_fp) == 0);
  free(superseded);
  CHECK_OUT_TEXT(dpgcert_import_result_superseded(result, 0, buf, lenp));
  CHECK_RC(dpgcert_import_result_superseded(result, 1, small, &len), DPGCERT_E_OUT_OF_RANGE);

  CHECK_RC(dpgcert_import_result_outcome(NULL, &v), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_import_result_outcome(result, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_import_result_fingerprint(NULL, small, &len), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_import_result_report(&report, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK(report == NULL);
  CHECK_RC(dpgcert_import_result_report(NULL, result), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_import_result_superseded_count(NULL, &count), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_import_result_superseded_count(result, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_import_result_superseded(NULL, 0, small, &len), DPGCERT_E_NULL_ARGUMENT);
  dpgcert_import_result_free(result);
  dpgcert_import_result_free(NULL);
  free(old_fp);
  dpgcert_store_free(store);
  free_pki(&p);
  remove_scratch(&s);
}

/* A store with: the current foces (mailbox M, org 12345674), its superseded predecessor, a
 * revoked certificate alone in mailbox R, and an OCES3 organisation certificate attached to no
 * mailbox. */
static dpgcert_store *filled_store(const scratch *s, pki *p) {
  dpgcert_store *store = new_store(s);
  dpgcert_import_options io = DPGCERT_IMPORT_OPTIONS_INIT;
  dpgcert_import_result *result = NULL;
  dpgcert_validate_options with_crl = p->validation;
  size_t len = 0;
  uint8_t *oces3_root = read_test_file("oces3-prod/root.crt.pem", &len);
  dpgcert_validate_options oces3 = p->validation;
  int ok = 1;
  io.validation = &p->validation;
  io.mailbox = "sikkerpost@testfirma.dk";
  ok &= import_file(store, "odd/foces-expiring-soon.p12", &io, &result) == DPGCERT_IMPORT_IMPORTED;
  dpgcert_import_result_free(result);
  ok &= import_file(store, "oces2-prod/foces.p12", &io, &result) == DPGCERT_IMPORT_IMPORTED;
  dpgcert_import_result_free(result);
  /* A forced import whose revocation check fails is stored as revoked. */
  with_crl.crls = p->crl;
  with_crl.crls_len = p->crl_len;
  io.validation = &with_crl;
  io.mailbox = "revoked@testfirma.dk";
  io.force = 1;
  ok &= import_file(store, "odd/foces-revoked.p12", &io, &result) == DPGCERT_IMPORT_IMPORTED;
  dpgcert_import_result_free(result);
  oces3.trust = oces3_root;
  oces3.trust_len = len;
  io.validation = &oces3;
  io.mailbox = NULL;
  io.force = 0;
  ok &= import_file(store, "oces3-prod/organisation.p12", &io, &result) == DPGCERT_IMPORT_IMPORTED;
  dpgcert_import_result_free(result);
  free(oces3_root);
  if (!ok) {
    fprintf(stderr, "cannot fill the store: %s\n", dpgcert_error_last());
    exit(2);
  }
  return store;
}

static int64_t int_field(const dpgcert_summary_list *list, size_t i, int field) {
  int64_t v = -1;
  if (dpgcert_summary_list_int(list, i, field, &v) != DPGCERT_OK) return INT64_MIN;
  return v;
}

static void test_queries(void) {
  scratch s = make_scratch("dpgcert-c-store");
  pki p = read_pki();
  dpgcert_store *store = filled_store(&s, &p);
  dpgcert_summary_list *list = NULL;
  dpgcert_query q = DPGCERT_QUERY_INIT;
  dpgcert_query expiring = DPGCERT_QUERY_EXPIRING_BEFORE(TEST_TIME + 30 * INT64_C(86400));
  char *foces_fp = file_fingerprint("oces2-prod/foces.crt.pem");
  char *text = NULL;
  size_t count = 0, i;

  /* Everything, ordered by expiry: the expiring-soon one first. */
  REQUIRE_OK(dpgcert_store_query(&list, store, NULL));
  REQUIRE_OK(dpgcert_summary_list_count(list, &count));
  CHECK(count == 4);
  CHECK(int_field(list, 0, DPGCERT_SUMMARY_NOT_AFTER) == INT64_C(1750377600)); /* 2025-06-20 */
  CHECK(int_field(list, 0, DPGCERT_SUMMARY_STATUS) == DPGCERT_STATUS_SUPERSEDED);
  for (i = 1; i < count; ++i) {
    CHECK(int_field(list, i - 1, DPGCERT_SUMMARY_NOT_AFTER) <= int_field(list, i, DPGCERT_SUMMARY_NOT_AFTER));
  }
  dpgcert_summary_list_free(list);
  REQUIRE_OK(dpgcert_store_count(store, NULL, &count));
  CHECK(count == 4);

  /* By mailbox and status. */
  q.mailbox = "sikkerpost@testfirma.dk";
  q.status = DPGCERT_STATUS_ACTIVE;
  REQUIRE_OK(dpgcert_store_query(&list, store, &q));
  REQUIRE_OK(dpgcert_summary_list_count(list, &count));
  REQUIRE(count == 1);
  CHECK(int_field(list, 0, DPGCERT_SUMMARY_ID) > 0);
  CHECK(int_field(list, 0, DPGCERT_SUMMARY_STATUS) == DPGCERT_STATUS_ACTIVE);
  CHECK(int_field(list, 0, DPGCERT_SUMMARY_NOT_BEFORE) == INT64_C(1704067200));
  CHECK(int_field(list, 0, DPGCERT_SUMMARY_NOT_AFTER) == INT64_C(1798761600));
  CHECK(int_field(list, 0, DPGCERT_SUMMARY_GENERATION) == DPGCERT_GENERATION_OCES2);
  CHECK(int_field(list, 0, DPGCERT_SUMMARY_TYPE) == DPGCERT_TYPE_FOCES);
  CHECK(int_field(list, 0, DPGCERT_SUMMARY_ENVIRONMENT) == DPGCERT_ENVIRONMENT_PRODUCTION);
  GET_TEXT(text, dpgcert_summary_list_text(list, 0, DPGCERT_SUMMARY_FINGERPRINT, buf, lenp));
  CHECK(text != NULL && foces_fp != NULL && strcmp(text, foces_fp) == 0);
  free(text);
  GET_TEXT(text, dpgcert_summary_list_text(list, 0, DPGCERT_SUMMARY_ORGANISATION_CVR, buf, lenp));
  CHECK(text != NULL && strcmp(text, "12345674") == 0);
  free(text);
  GET_TEXT(text, dpgcert_summary_list_text(list, 0, DPGCERT_SUMMARY_MAILBOX, buf, lenp));
  CHECK(text != NULL && strcmp(text, "sikkerpost@testfirma.dk") == 0);
  free(text);
  GET_TEXT(text, dpgcert_summary_list_text(list, 0, DPGCERT_SUMMARY_CVR, buf, lenp));
  CHECK(text != NULL && strcmp(text, "12345674") == 0);
  free(text);
  GET_TEXT(text, dpgcert_summary_list_text(list, 0, DPGCERT_SUMMARY_OCES_ID, buf, lenp));
  CHECK(text != NULL && strcmp(text, "94731315") == 0);
  free(text);
  GET_TEXT(text, dpgcert_summary_list_text(list, 0, DPGCERT_SUMMARY_COMMON_NAME, buf, lenp));
  CHECK(text != NULL && strcmp(text, "sikkerpost") == 0);
  free(text);
  CHECK_OUT_TEXT(dpgcert_summary_list_text(list, 0, DPGCERT_SUMMARY_FINGERPRINT, buf, lenp));
  CHECK_OUT_TEXT(dpgcert_summary_list_text(list, 0, DPGCERT_SUMMARY_MAILBOX, buf, lenp));
  dpgcert_summary_list_free(list);

  /* The renewal question: active certificates ending within 30 days - none; the expiring-soon
   * one was superseded. Within three years: the three active ones. */
  REQUIRE_OK(dpgcert_store_query(&list, store, &expiring));
  REQUIRE_OK(dpgcert_summary_list_count(list, &count));
  CHECK(count == 0);
  dpgcert_summary_list_free(list);
  expiring.not_after_before = TEST_TIME + 3 * 365 * INT64_C(86400);
  REQUIRE_OK(dpgcert_store_count(store, &expiring, &count));
  CHECK(count == 2); /* the revoked one is not active */

  /* Revoked ones, a time window, paging. */
  q = (dpgcert_query)DPGCERT_QUERY_INIT;
  q.status = DPGCERT_STATUS_REVOKED;
  REQUIRE_OK(dpgcert_store_count(store, &q, &count));
  CHECK(count == 1);
  q = (dpgcert_query)DPGCERT_QUERY_INIT;
  q.not_after_from = INT64_C(1798761600);
  REQUIRE_OK(dpgcert_store_count(store, &q, &count));
  CHECK(count == 3);
  q.limit = 2;
  q.offset = 2;
  REQUIRE_OK(dpgcert_store_query(&list, store, &q));
  REQUIRE_OK(dpgcert_summary_list_count(list, &count));
  CHECK(count == 1);
  dpgcert_summary_list_free(list);
  q = (dpgcert_query)DPGCERT_QUERY_INIT;
  q.organisation_cvr = "99999990";
  REQUIRE_OK(dpgcert_store_count(store, &q, &count));
  CHECK(count == 0);

  /* The OCES3 certificate is attached to no mailbox: its mailbox is absent. */
  q = (dpgcert_query)DPGCERT_QUERY_INIT;
  q.status = DPGCERT_STATUS_ACTIVE;
  REQUIRE_OK(dpgcert_store_query(&list, store, &q));
  REQUIRE_OK(dpgcert_summary_list_count(list, &count));
  for (i = 0; i < count; ++i) {
    if (int_field(list, i, DPGCERT_SUMMARY_TYPE) == DPGCERT_TYPE_ORGANISATION) {
      char small[4];
      size_t len = sizeof small;
      CHECK_RC(dpgcert_summary_list_text(list, i, DPGCERT_SUMMARY_MAILBOX, small, &len), DPGCERT_E_NOT_FOUND);
      CHECK(int_field(list, i, DPGCERT_SUMMARY_GENERATION) == DPGCERT_GENERATION_OCES3);
    }
  }
  dpgcert_summary_list_free(list);

  free(foces_fp);
  dpgcert_store_free(store);
  free_pki(&p);
  remove_scratch(&s);
}

static void test_query_errors(void) {
  scratch s = make_scratch("dpgcert-c-store");
  pki p = read_pki();
  dpgcert_store *store = filled_store(&s, &p);
  dpgcert_summary_list *list = (dpgcert_summary_list *)&list;
  dpgcert_query q = DPGCERT_QUERY_INIT;
  size_t count = 0, len = 8;
  int64_t v = 0;
  char buf[8];

  q.status = 17;
  CHECK_RC(dpgcert_store_query(&list, store, &q), DPGCERT_E_INVALID_ARGUMENT);
  CHECK(list == NULL);
  CHECK_RC(dpgcert_store_count(store, &q, &count), DPGCERT_E_INVALID_ARGUMENT);
  q = (dpgcert_query)DPGCERT_QUERY_INIT;
  q.version = 0;
  CHECK_RC(dpgcert_store_query(&list, store, &q), DPGCERT_E_VERSION);
  CHECK_RC(dpgcert_store_count(store, &q, &count), DPGCERT_E_VERSION);
  CHECK_RC(dpgcert_store_query(&list, NULL, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_store_query(NULL, store, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_store_count(NULL, NULL, &count), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_store_count(store, NULL, NULL), DPGCERT_E_NULL_ARGUMENT);

  REQUIRE_OK(dpgcert_store_query(&list, store, NULL));
  CHECK_RC(dpgcert_summary_list_count(NULL, &count), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_summary_list_count(list, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_summary_list_int(NULL, 0, DPGCERT_SUMMARY_ID, &v), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_summary_list_int(list, 0, DPGCERT_SUMMARY_ID, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_summary_list_int(list, 4, DPGCERT_SUMMARY_ID, &v), DPGCERT_E_OUT_OF_RANGE);
  CHECK_RC(dpgcert_summary_list_int(list, 0, DPGCERT_SUMMARY_MAILBOX, &v), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_summary_list_int(list, 0, 0, &v), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_summary_list_text(NULL, 0, DPGCERT_SUMMARY_FINGERPRINT, buf, &len), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_summary_list_text(list, 4, DPGCERT_SUMMARY_FINGERPRINT, buf, &len), DPGCERT_E_OUT_OF_RANGE);
  CHECK_RC(dpgcert_summary_list_text(list, 0, DPGCERT_SUMMARY_STATUS, buf, &len), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_summary_list_text(list, 0, 99, buf, &len), DPGCERT_E_INVALID_ARGUMENT);
  dpgcert_summary_list_free(list);
  dpgcert_summary_list_free(NULL);
  dpgcert_store_free(store);
  free_pki(&p);
  remove_scratch(&s);
}

static void test_current_bundle(void) {
  scratch s = make_scratch("dpgcert-c-store");
  pki p = read_pki();
  dpgcert_store *store = filled_store(&s, &p);
  dpgcert_pkcs12 *bundle = NULL;
  dpgcert_certificate *leaf = NULL;
  char *fp = NULL, *expected = file_fingerprint("oces2-prod/foces.crt.pem");
  int matches = -1;

  /* The gateway's call: the newest active certificate of the mailbox, with its key. */
  REQUIRE_OK(dpgcert_store_current_bundle(&bundle, store, "sikkerpost@testfirma.dk"));
  REQUIRE(bundle != NULL);
  REQUIRE_OK(dpgcert_pkcs12_leaf(&leaf, bundle));
  GET_TEXT(fp, dpgcert_certificate_fingerprint(leaf, buf, lenp));
  CHECK(fp != NULL && expected != NULL && strcmp(fp, expected) == 0);
  REQUIRE_OK(dpgcert_pkcs12_key_matches(bundle, &matches));
  CHECK(matches == 1);
  free(fp);
  dpgcert_certificate_free(leaf);
  dpgcert_pkcs12_free(bundle);
  /* Addresses are compared in lowercase. */
  REQUIRE_OK(dpgcert_store_current_bundle(&bundle, store, "SikkerPost@TestFirma.dk"));
  CHECK(bundle != NULL);
  dpgcert_pkcs12_free(bundle);

  /* A mailbox whose only certificate is revoked has no current bundle: success, NULL. */
  bundle = (dpgcert_pkcs12 *)&bundle;
  REQUIRE_OK(dpgcert_store_current_bundle(&bundle, store, "revoked@testfirma.dk"));
  CHECK(bundle == NULL);
  CHECK(strcmp(dpgcert_error_last(), "") == 0);

  CHECK_RC(dpgcert_store_current_bundle(&bundle, store, "nobody@testfirma.dk"), DPGCERT_E_NOT_FOUND);
  CHECK_ERROR_MENTIONS("dpgcert_store_current_bundle");
  CHECK_RC(dpgcert_store_current_bundle(&bundle, store, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_store_current_bundle(&bundle, NULL, "sikkerpost@testfirma.dk"), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_store_current_bundle(NULL, store, "sikkerpost@testfirma.dk"), DPGCERT_E_NULL_ARGUMENT);
  dpgcert_store_free(store);

  /* Opened with another store's key file, the master key is wrong. */
  {
    scratch other = make_scratch("dpgcert-c-store");
    dpgcert_store *other_store = new_store(&other);
    dpgcert_store_options o = DPGCERT_STORE_OPTIONS_INIT;
    dpgcert_store_free(other_store);
    o.key_file = other.key;
    REQUIRE_OK(dpgcert_store_open(&store, s.db, &o));
    CHECK_RC(dpgcert_store_current_bundle(&bundle, store, "sikkerpost@testfirma.dk"), DPGCERT_E_BAD_PASSWORD);
    dpgcert_store_free(store);
    /* A key file that cannot be read (a folder) is an I/O error, met when the key is needed. */
    o.key_file = other.dir;
    REQUIRE_OK(dpgcert_store_open(&store, s.db, &o));
    CHECK_RC(dpgcert_store_current_bundle(&bundle, store, "sikkerpost@testfirma.dk"), DPGCERT_E_IO);
    CHECK(bundle == NULL);
    dpgcert_store_free(store);
    remove_scratch(&other);
  }
  free(expected);
  free_pki(&p);
  remove_scratch(&s);
}

static void test_copy(void) {
  scratch s = make_scratch("dpgcert-c-store");
  pki p = read_pki();
  dpgcert_store *store = filled_store(&s, &p);
  dpgcert_store *copy = NULL;
  dpgcert_pkcs12 *bundle = NULL;
  dpgcert_store_options o = DPGCERT_STORE_OPTIONS_INIT;
  size_t certificates = 0, copied_count = 0;
  char target[400];
  int matches = -1;
  dpgcert_query q = DPGCERT_QUERY_INIT;

  snprintf(target, sizeof target, "sqlite:%s/copy.db", s.dir);
  REQUIRE_OK(dpgcert_store_count(store, &q, &certificates));
  REQUIRE_OK(dpgcert_store_copy(store, target, &copied_count));
  CHECK(copied_count == certificates && certificates > 0);
  /* The copy opens with the same key file and hands out the same current bundle. */
  o.key_file = s.key;
  REQUIRE_OK(dpgcert_store_open(&copy, target, &o));
  REQUIRE_OK(dpgcert_store_current_bundle(&bundle, copy, "sikkerpost@testfirma.dk"));
  REQUIRE(bundle != NULL);
  REQUIRE_OK(dpgcert_pkcs12_key_matches(bundle, &matches));
  CHECK(matches == 1);
  dpgcert_pkcs12_free(bundle);
  dpgcert_store_free(copy);
  /* A second copy to the same place meets a store there. */
  CHECK_RC(dpgcert_store_copy(store, target, NULL), DPGCERT_E_CONFLICT);
  CHECK_ERROR_MENTIONS("dpgcert_store_copy");
  CHECK_RC(dpgcert_store_copy(store, s.db, NULL), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_store_copy(store, NULL, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_store_copy(NULL, target, NULL), DPGCERT_E_NULL_ARGUMENT);
  dpgcert_store_free(store);
  free_pki(&p);
  remove_scratch(&s);
}

typedef struct progress_seen {
  size_t calls, last_done, total;
  unsigned indexes; /* a bit per file index */
} progress_seen;

static void on_progress(size_t done, size_t total, size_t index, void *payload) {
  progress_seen *seen = (progress_seen *)payload;
  ++seen->calls;
  if (done > seen->last_done) seen->last_done = done;
  seen->total = total;
  if (index < 32) seen->indexes |= 1u << index;
}

static void test_import_files(void) {
  scratch s = make_scratch("dpgcert-c-store");
  pki p = read_pki();
  dpgcert_store *store = new_store(&s);
  dpgcert_import_options io = DPGCERT_IMPORT_OPTIONS_INIT;
  dpgcert_bulk_options bo = DPGCERT_BULK_OPTIONS_INIT;
  dpgcert_bulk_result *result = NULL;
  dpgcert_import_result *imported = NULL;
  progress_seen seen = {0, 0, 0, 0};
  char foces[512], voces[512], expired[512], absent[600];
  static const uint8_t wrong[] = "wrong-password";
  char *fp = NULL, *expected = file_fingerprint("oces2-prod/foces.crt.pem"), *message = NULL;
  size_t count = 0;
  int error = 1, outcome = -1;
  dpgcert_bulk_item items[5];

  snprintf(foces, sizeof foces, "%s/oces2-prod/foces.p12", test_data_dir());
  snprintf(voces, sizeof voces, "%s/oces2-prod/voces.p12", test_data_dir());
  snprintf(expired, sizeof expired, "%s/odd/foces-expired.p12", test_data_dir());
  snprintf(absent, sizeof absent, "%s/absent.p12", s.dir);
  memset(items, 0, sizeof items);
  items[0].path = foces;
  items[0].password = TEST_PASSWORD_BYTES;
  items[0].password_len = TEST_PASSWORD_LEN;
  items[0].organisation_cvr = "12345674";
  items[0].mailbox = "sikkerpost@testfirma.dk";
  items[1].path = voces;
  items[1].password = wrong;
  items[1].password_len = sizeof wrong - 1;
  items[2].path = absent;
  items[2].password = TEST_PASSWORD_BYTES;
  items[2].password_len = TEST_PASSWORD_LEN;
  items[3].path = expired;
  items[3].password = TEST_PASSWORD_BYTES;
  items[3].password_len = TEST_PASSWORD_LEN;
  items[4] = items[0]; /* the first file again, in the same call */
  io.validation = &p.validation;
  io.actor = "c-bulk";
  bo.threads = 2;
  bo.defaults = &io;
  bo.progress = on_progress;
  bo.payload = &seen;
  REQUIRE_OK(dpgcert_store_import_files(&result, store, items, 5, &bo));
  REQUIRE_OK(dpgcert_bulk_result_count(result, &count));
  CHECK(count == 5);
  CHECK(seen.calls == 5 && seen.last_done == 5 && seen.total == 5 && seen.indexes == 0x1Fu);

  /* 0: imported, with the expected fingerprint. */
  REQUIRE_OK(dpgcert_bulk_result_error(result, 0, &error));
  CHECK(error == DPGCERT_OK);
  REQUIRE_OK(dpgcert_bulk_result_import(&imported, result, 0));
  REQUIRE_OK(dpgcert_import_result_outcome(imported, &outcome));
  CHECK(outcome == DPGCERT_IMPORT_IMPORTED);
  GET_TEXT(fp, dpgcert_import_result_fingerprint(imported, buf, lenp));
  CHECK(fp != NULL && expected != NULL && strcmp(fp, expected) == 0);
  free(fp);
  dpgcert_import_result_free(imported);
  CHECK_RC(dpgcert_bulk_result_message(result, 0, NULL, &count), DPGCERT_E_NOT_FOUND);

  /* 1: a wrong password - its message never holds the password; 2: a missing file. */
  REQUIRE_OK(dpgcert_bulk_result_error(result, 1, &error));
  CHECK(error == DPGCERT_E_BAD_PASSWORD);
  GET_TEXT(message, dpgcert_bulk_result_message(result, 1, buf, lenp));
  CHECK(message != NULL && message[0] != '\0' && strstr(message, "wrong-password") == NULL);
  free(message);
  CHECK_OUT_TEXT(dpgcert_bulk_result_message(result, 1, buf, lenp));
  imported = (dpgcert_import_result *)&imported;
  CHECK_RC(dpgcert_bulk_result_import(&imported, result, 1), DPGCERT_E_NOT_FOUND);
  CHECK(imported == NULL);
  REQUIRE_OK(dpgcert_bulk_result_error(result, 2, &error));
  CHECK(error == DPGCERT_E_IO);

  /* 3: refused (expired, not forced); 4: the first file again - already present. */
  REQUIRE_OK(dpgcert_bulk_result_import(&imported, result, 3));
  REQUIRE_OK(dpgcert_import_result_outcome(imported, &outcome));
  CHECK(outcome == DPGCERT_IMPORT_REFUSED);
  dpgcert_import_result_free(imported);
  REQUIRE_OK(dpgcert_bulk_result_import(&imported, result, 4));
  REQUIRE_OK(dpgcert_import_result_outcome(imported, &outcome));
  CHECK(outcome == DPGCERT_IMPORT_ALREADY_PRESENT);
  dpgcert_import_result_free(imported);
  REQUIRE_OK(dpgcert_store_count(store, NULL, &count));
  CHECK(count == 1);

  /* Argument errors. */
  CHECK_RC(dpgcert_bulk_result_error(result, 5, &error), DPGCERT_E_OUT_OF_RANGE);
  CHECK_RC(dpgcert_bulk_result_error(result, 0, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_bulk_result_error(NULL, 0, &error), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_bulk_result_count(NULL, &count), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_bulk_result_import(NULL, result, 0), DPGCERT_E_NULL_ARGUMENT);
  dpgcert_bulk_result_free(result);
  result = (dpgcert_bulk_result *)&result;
  CHECK_RC(dpgcert_store_import_files(&result, NULL, items, 1, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK(result == NULL);
  CHECK_ERROR_MENTIONS("dpgcert_store_import_files");
  CHECK_RC(dpgcert_store_import_files(&result, store, NULL, 1, NULL), DPGCERT_E_NULL_ARGUMENT);
  items[0].path = NULL;
  CHECK_RC(dpgcert_store_import_files(&result, store, items, 1, NULL), DPGCERT_E_NULL_ARGUMENT);
  items[0].path = foces;
  bo.version = DPGCERT_BULK_OPTIONS_VERSION + 1;
  CHECK_RC(dpgcert_store_import_files(&result, store, items, 1, &bo), DPGCERT_E_VERSION);
  /* No files: an empty result. */
  REQUIRE_OK(dpgcert_store_import_files(&result, store, NULL, 0, NULL));
  REQUIRE_OK(dpgcert_bulk_result_count(result, &count));
  CHECK(count == 0);
  dpgcert_bulk_result_free(result);
  REQUIRE_OK(dpgcert_store_count(store, NULL, &count));
  CHECK(count == 1);

  free(expected);
  dpgcert_store_free(store);
  free_pki(&p);
  remove_scratch(&s);
}

static const c_test_case cases[] = {
    {"create_and_open", test_create_and_open},
    {"create_and_open_errors", test_create_and_open_errors},
    {"passphrase_store", test_passphrase_store},
    {"import_outcomes", test_import_outcomes},
    {"import_errors", test_import_errors},
    {"supersede_and_result_errors", test_supersede_and_result_errors},
    {"queries", test_queries},
    {"query_errors", test_query_errors},
    {"current_bundle", test_current_bundle},
    {"copy", test_copy},
    {"import_files", test_import_files},
};
C_TEST_MAIN(cases)
