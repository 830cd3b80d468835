/* C API: opening PKCS#12 files and reading what they hold. */
#include "c_test.h"

static void test_open_modern_legacy_and_passwords(void) {
  static const struct {
    const char *file, *password;
    int legacy;
  } files[] = {
      {"oces2-prod/foces.p12", "Test1234", 0},
      {"oces2-prod/foces-legacy.p12", "Test1234", 1}, /* RC2-40 / 3DES / SHA-1 MAC */
      {"oces3-prod/organisation.p12", "Test1234", 0},
      {"odd/foces-utf8pw.p12", "Sikker-\xc3\xa6\xc3\xb8\xc3\xa5-2024", 0},
      {"odd/foces-emptypw.p12", "", 0},
  };
  size_t i;
  for (i = 0; i < sizeof files / sizeof files[0]; ++i) {
    dpgcert_pkcs12 *bundle = load_test_pkcs12(files[i].file, files[i].password);
    int legacy = -1, matches = -1;
    REQUIRE_OK(dpgcert_pkcs12_legacy(bundle, &legacy));
    CHECK(legacy == files[i].legacy);
    REQUIRE_OK(dpgcert_pkcs12_key_matches(bundle, &matches));
    CHECK(matches == 1);
    dpgcert_pkcs12_free(bundle);
  }
  /* The empty password may also be given as (NULL, 0). */
  {
    size_t len = 0;
    uint8_t *data = read_test_file("odd/foces-emptypw.p12", &len);
    dpgcert_pkcs12 *bundle = NULL;
    REQUIRE_OK(dpgcert_pkcs12_load(&bundle, data, len, NULL, 0));
    dpgcert_pkcs12_free(bundle);
    free(data);
  }
}

static void test_open_errors(void) {
  size_t len = 0;
  uint8_t *data = read_test_file("oces2-prod/foces.p12", &len);
  dpgcert_pkcs12 *bundle = (dpgcert_pkcs12 *)&bundle;
  static const uint8_t wrong[] = "Test1235";
  static const uint8_t with_nul[] = {'T', 'e', 's', 't', 0, '1', '2', '3', '4'};
  static const uint8_t random_bytes[] = {0x30, 0x82, 0x7f, 0x10, 0x99, 0x42, 0x00, 0x13, 0xde, 0xad};
  uint8_t *huge;

  CHECK_RC(dpgcert_pkcs12_load(&bundle, data, len, wrong, sizeof wrong - 1), DPGCERT_E_BAD_PASSWORD);
  CHECK(bundle == NULL);
  CHECK_ERROR_MENTIONS("dpgcert_pkcs12_load");
  /* The message never repeats the password. */
  CHECK(strstr(dpgcert_error_last(), "Test1235") == NULL);
  CHECK_RC(dpgcert_pkcs12_load(&bundle, data, len - 40, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN), DPGCERT_E_MALFORMED);
  CHECK_RC(dpgcert_pkcs12_load(&bundle, random_bytes, sizeof random_bytes, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN),
           DPGCERT_E_MALFORMED);
  /* A NUL inside a password means a buffer size was passed for a length. */
  CHECK_RC(dpgcert_pkcs12_load(&bundle, data, len, with_nul, sizeof with_nul), DPGCERT_E_INVALID_ARGUMENT);
  CHECK(strstr(dpgcert_error_last(), "NUL") != NULL);
  CHECK_RC(dpgcert_pkcs12_load(&bundle, data, len, NULL, 8), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_pkcs12_load(&bundle, NULL, len, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_pkcs12_load(NULL, data, len, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN), DPGCERT_E_NULL_ARGUMENT);
  /* Past the input limit before any key derivation. */
  huge = (uint8_t *)calloc(1024 * 1024 + 1, 1);
  REQUIRE(huge != NULL);
  memcpy(huge, data, len);
  CHECK_RC(dpgcert_pkcs12_load(&bundle, huge, 1024 * 1024 + 1, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN),
           DPGCERT_E_LIMIT_EXCEEDED);
  CHECK(bundle == NULL);
  free(huge);
  /* An algorithm dpgcert does not know (AES-256-CBC's OID with a last arc of 127) is refused
   * before the MAC and any key derivation. */
  {
    static const uint8_t aes256_oid[] = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a};
    size_t i, patched = 0;
    for (i = 0; i + sizeof aes256_oid <= len; ++i) {
      if (memcmp(data + i, aes256_oid, sizeof aes256_oid) == 0) {
        data[i + sizeof aes256_oid - 1] = 0x7f;
        ++patched;
      }
    }
    CHECK(patched == 2);
    CHECK_RC(dpgcert_pkcs12_load(&bundle, data, len, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN), DPGCERT_E_UNSUPPORTED);
    CHECK(strstr(dpgcert_error_last(), "2.16.840.1.101.3.4.1.127") != NULL);
  }
  dpgcert_pkcs12_free(NULL);
  free(data);
}

static void test_contents(void) {
  dpgcert_pkcs12 *bundle = load_test_pkcs12("oces2-prod/foces.p12", TEST_PASSWORD);
  dpgcert_certificate *leaf = NULL, *ca = NULL, *root = NULL, *extra = (dpgcert_certificate *)&extra;
  size_t count = 0, len = 0;
  char *text = NULL;
  uint8_t *file_pem;
  int64_t t = 0;

  REQUIRE_OK(dpgcert_pkcs12_leaf(&leaf, bundle));
  GET_TEXT(text, dpgcert_certificate_subject(leaf, buf, lenp));
  CHECK(text != NULL &&
        strcmp(text, "CN=sikkerpost+serialNumber=CVR:12345674-FID:94731315,O=Testfirma A/S // CVR:12345674,C=DK") == 0);
  free(text);
  /* The leaf is the certificate openssl put in the file. */
  file_pem = read_test_file("oces2-prod/foces.crt.pem", &len);
  GET_TEXT(text, dpgcert_certificate_pem(leaf, buf, lenp));
  CHECK(text != NULL && strlen(text) == len && memcmp(text, file_pem, len) == 0);
  free(text);
  free(file_pem);

  REQUIRE_OK(dpgcert_pkcs12_chain_count(bundle, &count));
  CHECK(count == 2);
  REQUIRE_OK(dpgcert_pkcs12_chain_get(&ca, bundle, 0));
  REQUIRE_OK(dpgcert_pkcs12_chain_get(&root, bundle, 1));
  GET_TEXT(text, dpgcert_certificate_subject(ca, buf, lenp));
  CHECK(text != NULL && strcmp(text, "CN=TRUST2408 OCES CA V,OU=dpgcert synthetic,O=TRUST2408,C=DK") == 0);
  free(text);
  REQUIRE_OK(dpgcert_certificate_not_after(root, &t));
  CHECK(t == INT64_C(2208988800));
  CHECK_RC(dpgcert_pkcs12_chain_get(&extra, bundle, 2), DPGCERT_E_OUT_OF_RANGE);
  CHECK(extra == NULL);

  GET_TEXT(text, dpgcert_pkcs12_friendly_name(bundle, buf, lenp));
  CHECK(text != NULL && strcmp(text, "sikkerpost") == 0);
  free(text);
  CHECK_OUT_TEXT(dpgcert_pkcs12_friendly_name(bundle, buf, lenp));

  GET_TEXT(text, dpgcert_pkcs12_profile_json(bundle, buf, lenp));
  CHECK(text != NULL && strstr(text, "\"legacy\":false") != NULL);
  CHECK(text != NULL && strstr(text, "AES-256-CBC") != NULL);
  free(text);
  CHECK_OUT_TEXT(dpgcert_pkcs12_profile_json(bundle, buf, lenp));

  dpgcert_certificate_free(leaf);
  dpgcert_certificate_free(ca);
  dpgcert_certificate_free(root);
  dpgcert_pkcs12_free(bundle);
}

static void test_private_key(void) {
  dpgcert_pkcs12 *bundle = load_test_pkcs12("oces2-prod/foces.p12", TEST_PASSWORD);
  uint8_t key[4096];
  size_t len = sizeof key;
  REQUIRE_OK(dpgcert_pkcs12_private_key(bundle, key, &len));
  /* PKCS#8 PrivateKeyInfo: a DER SEQUENCE with a long length, version 0 first. */
  CHECK(len > 1000 && len < sizeof key);
  CHECK(key[0] == 0x30 && key[1] == 0x82);
  CHECK(key[4] == 0x02 && key[5] == 0x01 && key[6] == 0x00);
  memset(key, 0, sizeof key); /* the caller wipes its copy */
  CHECK_OUT_BYTES(dpgcert_pkcs12_private_key(bundle, buf, lenp));
  dpgcert_pkcs12_free(bundle);
}

static void test_mismatched_key(void) {
  dpgcert_pkcs12 *bundle = load_test_pkcs12("odd/mismatch.p12", TEST_PASSWORD);
  int matches = -1;
  REQUIRE_OK(dpgcert_pkcs12_key_matches(bundle, &matches));
  CHECK(matches == 0);
  dpgcert_pkcs12_free(bundle);
}

static void test_no_key_and_no_leaf(void) {
  size_t len = 0, count = 9;
  uint8_t *data = read_file_at(binding_data_dir(), "ca-only.p12", &len);
  dpgcert_pkcs12 *bundle = NULL;
  dpgcert_certificate *leaf = (dpgcert_certificate *)&leaf;
  uint8_t key[16];
  char name[16];
  size_t key_len = sizeof key, name_len = sizeof name;
  int matches = -1;
  REQUIRE_OK(dpgcert_pkcs12_load(&bundle, data, len, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN));
  CHECK_RC(dpgcert_pkcs12_leaf(&leaf, bundle), DPGCERT_E_NOT_FOUND);
  CHECK(leaf == NULL);
  CHECK_RC(dpgcert_pkcs12_private_key(bundle, key, &key_len), DPGCERT_E_NOT_FOUND);
  CHECK(key_len == sizeof key);
  CHECK_RC(dpgcert_pkcs12_friendly_name(bundle, name, &name_len), DPGCERT_E_NOT_FOUND);
  REQUIRE_OK(dpgcert_pkcs12_key_matches(bundle, &matches));
  CHECK(matches == 0);
  REQUIRE_OK(dpgcert_pkcs12_chain_count(bundle, &count));
  CHECK(count == 1);
  dpgcert_pkcs12_free(bundle);
  free(data);
}

static void test_null_arguments(void) {
  dpgcert_pkcs12 *bundle = load_test_pkcs12("oces2-prod/foces.p12", TEST_PASSWORD);
  dpgcert_certificate *cert = (dpgcert_certificate *)&cert;
  size_t count = 0, len = 8;
  char buf[8];
  int v = 0;
  CHECK_RC(dpgcert_pkcs12_leaf(&cert, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK(cert == NULL);
  CHECK_RC(dpgcert_pkcs12_leaf(NULL, bundle), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_pkcs12_chain_count(NULL, &count), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_pkcs12_chain_count(bundle, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_pkcs12_chain_get(&cert, NULL, 0), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_pkcs12_chain_get(NULL, bundle, 0), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_pkcs12_key_matches(NULL, &v), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_pkcs12_key_matches(bundle, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_pkcs12_private_key(NULL, (uint8_t *)buf, &len), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_pkcs12_friendly_name(NULL, buf, &len), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_pkcs12_legacy(NULL, &v), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_pkcs12_legacy(bundle, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_pkcs12_profile_json(NULL, buf, &len), DPGCERT_E_NULL_ARGUMENT);
  dpgcert_pkcs12_free(bundle);
}

static const c_test_case cases[] = {
    {"open_modern_legacy_and_passwords", test_open_modern_legacy_and_passwords},
    {"open_errors", test_open_errors},
    {"contents", test_contents},
    {"private_key", test_private_key},
    {"mismatched_key", test_mismatched_key},
    {"no_key_and_no_leaf", test_no_key_and_no_leaf},
    {"null_arguments", test_null_arguments},
};
C_TEST_MAIN(cases)
