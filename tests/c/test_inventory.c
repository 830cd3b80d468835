/* C API: a store's organisations, contacts and mailboxes: add, edit, move, remove. */
#define _POSIX_C_SOURCE 200809L
#include "c_test.h"

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

static void test_organisations_and_contacts(void) {
  scratch s = make_scratch("dpgcert-c-inventory");
  dpgcert_store *store = new_store(&s);
  char *name = NULL;
  size_t count = 9, retired = 9;

  REQUIRE_OK(dpgcert_store_add_organisation(store, "12345674", "Kunde A/S"));
  CHECK_RC(dpgcert_store_add_organisation(store, "12345674", "Igen"), DPGCERT_E_CONFLICT);
  CHECK_RC(dpgcert_store_add_organisation(store, "1234", "Kort"), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_OUT_TEXT(dpgcert_store_organisation_name(store, "12345674", buf, lenp));
  REQUIRE_OK(dpgcert_store_edit_organisation(store, "12345674", "Kunde Holding A/S", NULL));
  GET_TEXT(name, dpgcert_store_organisation_name(store, "12345674", buf, lenp));
  REQUIRE(name != NULL);
  CHECK(strcmp(name, "Kunde Holding A/S") == 0);
  free(name);
  REQUIRE_OK(dpgcert_store_edit_organisation(store, "12345674", NULL, "notes only"));
  GET_TEXT(name, dpgcert_store_organisation_name(store, "12345674", buf, lenp));
  REQUIRE(name != NULL);
  CHECK(strcmp(name, "Kunde Holding A/S") == 0); /* NULL kept the name */
  free(name);
  CHECK_RC(dpgcert_store_edit_organisation(store, "12345674", "", NULL), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_store_edit_organisation(store, "87654321", "X", NULL), DPGCERT_E_NOT_FOUND);
  CHECK_ERROR_MENTIONS("dpgcert_store_edit_organisation");
  CHECK_RC(dpgcert_store_organisation_name(store, "87654321", NULL, &count), DPGCERT_E_NOT_FOUND);

  /* The language of the smtp sink's mail: "da" unless set; only da or en. */
  GET_TEXT(name, dpgcert_store_organisation_language(store, "12345674", buf, lenp));
  REQUIRE(name != NULL);
  CHECK(strcmp(name, "da") == 0);
  free(name);
  REQUIRE_OK(dpgcert_store_set_organisation_language(store, "12345674", "en"));
  GET_TEXT(name, dpgcert_store_organisation_language(store, "12345674", buf, lenp));
  REQUIRE(name != NULL);
  CHECK(strcmp(name, "en") == 0);
  free(name);
  CHECK_RC(dpgcert_store_set_organisation_language(store, "12345674", "fr"), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_store_set_organisation_language(store, "87654321", "da"), DPGCERT_E_NOT_FOUND);
  CHECK_RC(dpgcert_store_set_organisation_language(store, "12345674", NULL), DPGCERT_E_NULL_ARGUMENT);

  REQUIRE_OK(dpgcert_store_add_contact(store, "12345674", "IT-drift", "drift@kunde.dk", "renewals"));
  REQUIRE_OK(dpgcert_store_add_contact(store, "12345674", NULL, "bogholderi@kunde.dk", NULL));
  CHECK_RC(dpgcert_store_add_contact(store, "12345674", NULL, "DRIFT@kunde.dk", NULL), DPGCERT_E_CONFLICT);
  CHECK_RC(dpgcert_store_add_contact(store, "12345674", NULL, "no-at", NULL), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_store_add_contact(store, "12345674", NULL, NULL, NULL), DPGCERT_E_NULL_ARGUMENT);
  REQUIRE_OK(dpgcert_store_contact_count(store, "12345674", &count));
  CHECK(count == 2);
  REQUIRE_OK(dpgcert_store_remove_contact(store, "12345674", "Drift@Kunde.dk"));
  CHECK_RC(dpgcert_store_remove_contact(store, "12345674", "drift@kunde.dk"), DPGCERT_E_NOT_FOUND);
  REQUIRE_OK(dpgcert_store_contact_count(store, "12345674", &count));
  CHECK(count == 1);
  CHECK_RC(dpgcert_store_contact_count(store, "12345674", NULL), DPGCERT_E_NULL_ARGUMENT);

  CHECK_RC(dpgcert_store_remove_organisation(store, "12345674", 2u, NULL), DPGCERT_E_INVALID_ARGUMENT);
  REQUIRE_OK(dpgcert_store_remove_organisation(store, "12345674", 0, &retired));
  CHECK(retired == 0);
  CHECK_RC(dpgcert_store_remove_organisation(store, "12345674", 0, NULL), DPGCERT_E_NOT_FOUND);
  CHECK_RC(dpgcert_store_remove_organisation(NULL, "12345674", 0, NULL), DPGCERT_E_NULL_ARGUMENT);
  dpgcert_store_free(store);
  remove_scratch(&s);
}

static void test_mailboxes(void) {
  scratch s = make_scratch("dpgcert-c-inventory");
  dpgcert_store *store = new_store(&s);
  dpgcert_import_options io = DPGCERT_IMPORT_OPTIONS_INIT;
  dpgcert_validate_options v = DPGCERT_VALIDATE_OPTIONS_INIT;
  dpgcert_import_result *result = NULL;
  uint8_t *root, *p12;
  size_t root_len = 0, p12_len = 0, retired = 9;
  char *cvr = NULL;
  int outcome = -1;

  REQUIRE_OK(dpgcert_store_add_organisation(store, "12345674", "Testfirma A/S"));
  REQUIRE_OK(dpgcert_store_add_organisation(store, "11111111", "Søster ApS"));
  REQUIRE_OK(dpgcert_store_add_mailbox(store, "sikkerpost@testfirma.dk", "12345674", NULL));
  CHECK_RC(dpgcert_store_add_mailbox(store, "sikkerpost@testfirma.dk", "12345674", NULL), DPGCERT_E_CONFLICT);
  CHECK_RC(dpgcert_store_add_mailbox(store, "no-address", "12345674", NULL), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_store_add_mailbox(store, "a@b.dk", "87654321", NULL), DPGCERT_E_NOT_FOUND);
  REQUIRE_OK(dpgcert_store_set_mailbox_ad_group(store, "sikkerpost@testfirma.dk", "GG-Sikkerpost"));
  CHECK_RC(dpgcert_store_set_mailbox_ad_group(store, "ingen@testfirma.dk", "G"), DPGCERT_E_NOT_FOUND);
  CHECK_RC(dpgcert_store_set_mailbox_ad_group(store, "sikkerpost@testfirma.dk", NULL), DPGCERT_E_NULL_ARGUMENT);

  /* An active certificate on the mailbox. */
  root = read_test_file("oces2-prod/root.crt.pem", &root_len);
  p12 = read_test_file("oces2-prod/foces.p12", &p12_len);
  v.at = TEST_TIME;
  v.trust = root;
  v.trust_len = root_len;
  io.mailbox = "sikkerpost@testfirma.dk";
  io.validation = &v;
  REQUIRE_OK(dpgcert_store_import(&result, store, p12, p12_len, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN, &io));
  REQUIRE_OK(dpgcert_import_result_outcome(result, &outcome));
  CHECK(outcome == DPGCERT_IMPORT_IMPORTED);
  dpgcert_import_result_free(result);

  REQUIRE_OK(dpgcert_store_move_mailbox(store, "SIKKERPOST@testfirma.dk", "11111111"));
  CHECK_OUT_TEXT(dpgcert_store_mailbox_organisation(store, "sikkerpost@testfirma.dk", buf, lenp));
  GET_TEXT(cvr, dpgcert_store_mailbox_organisation(store, "sikkerpost@testfirma.dk", buf, lenp));
  REQUIRE(cvr != NULL);
  CHECK(strcmp(cvr, "11111111") == 0);
  free(cvr);
  CHECK_RC(dpgcert_store_move_mailbox(store, "sikkerpost@testfirma.dk", "87654321"), DPGCERT_E_NOT_FOUND);
  CHECK_RC(dpgcert_store_mailbox_organisation(store, "ingen@testfirma.dk", NULL, &root_len), DPGCERT_E_NOT_FOUND);

  /* Removal: refused while the certificate is active, then with the flag it is retired. */
  CHECK_RC(dpgcert_store_remove_organisation(store, "11111111", 0, NULL), DPGCERT_E_CONFLICT);
  CHECK_RC(dpgcert_store_remove_mailbox(store, "sikkerpost@testfirma.dk", 0, &retired), DPGCERT_E_CONFLICT);
  CHECK(strstr(dpgcert_error_last(), "1 active certificate hangs on mailbox sikkerpost@testfirma.dk") != NULL);
  CHECK_RC(dpgcert_store_remove_mailbox(store, "sikkerpost@testfirma.dk", 8u, NULL), DPGCERT_E_INVALID_ARGUMENT);
  REQUIRE_OK(dpgcert_store_remove_mailbox(store, "sikkerpost@testfirma.dk", DPGCERT_REMOVE_RETIRE_CERTIFICATES,
                                          &retired));
  CHECK(retired == 1);
  CHECK_RC(dpgcert_store_remove_mailbox(store, "sikkerpost@testfirma.dk", 0, NULL), DPGCERT_E_NOT_FOUND);
  REQUIRE_OK(dpgcert_store_remove_organisation(store, "11111111", 0, NULL));
  free(root);
  free(p12);
  dpgcert_store_free(store);
  remove_scratch(&s);
}

static const c_test_case cases[] = {
    {"organisations_and_contacts", test_organisations_and_contacts},
    {"mailboxes", test_mailboxes},
};
C_TEST_MAIN(cases)
