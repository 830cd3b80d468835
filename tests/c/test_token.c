/* C API: keys on a SoftHSM2 token: a stored certificate's key put on the token, the current
 * certificate's key reference, signing (verified with OpenSSL against the certificate) and
 * decrypting (OAEP, PKCS#1 v1.5) through it, and the errors (wrong PIN, missing object, wrong or
 * unknown scheme). Skips, saying so, when softhsm2 is not installed. */
#define _POSIX_C_SOURCE 200809L
#include "c_test.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <unistd.h>

/* REQUIRE for helpers that return a value: a failed set-up ends the program. */
#define MUST(cond)                                                         \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: set-up failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(2);                                                             \
    }                                                                      \
  } while (0)
#define MUST_OK(expr) MUST((expr) == DPGCERT_OK)

#define PIN "c-test-pin"
#define PIN_BYTES ((const uint8_t *)PIN)
#define PIN_LEN (sizeof(PIN) - 1)

/* A SoftHSM2 configuration of this process in `s->dir` and a token labelled `label` in it; 0 when
 * softhsm2 is not installed. */
static int make_token(const scratch *s, const char *label) {
  char path[600], cmd[1200];
  FILE *f;
  if (access("/usr/lib/softhsm/libsofthsm2.so", R_OK) != 0) {
    printf("skipped: softhsm2 is not installed (apt-get install softhsm2)\n");
    return 0;
  }
  snprintf(path, sizeof path, "%s/tokens", s->dir);
  snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
  MUST(system(cmd) == 0);
  snprintf(path, sizeof path, "%s/softhsm2.conf", s->dir);
  f = fopen(path, "w");
  MUST(f != NULL);
  fprintf(f, "directories.tokendir = %s/tokens\nobjectstore.backend = file\n", s->dir);
  fclose(f);
  setenv("SOFTHSM2_CONF", path, 1);
  snprintf(cmd, sizeof cmd,
           "softhsm2-util --init-token --free --label '%s' --so-pin 12345678 --pin " PIN " >/dev/null", label);
  MUST(system(cmd) == 0);
  return 1;
}

static void remove_tokens(const scratch *s) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s/tokens' '%s/softhsm2.conf'", s->dir, s->dir);
  CHECK(system(cmd) == 0);
}

/* A store with the FOCES test certificate as sikkerpost@testfirma.dk's current one; its fingerprint in `fp`. */
static dpgcert_store *store_with_certificate(const scratch *s, char fp[65]) {
  dpgcert_store_options o = DPGCERT_STORE_OPTIONS_INIT;
  dpgcert_validate_options v = DPGCERT_VALIDATE_OPTIONS_INIT;
  dpgcert_import_options io = DPGCERT_IMPORT_OPTIONS_INIT;
  dpgcert_store *store = NULL;
  dpgcert_import_result *result = NULL;
  dpgcert_certificate *cert = load_test_certificate("oces2-prod/foces.crt.pem");
  size_t root_len = 0, len = 0, n = 65;
  uint8_t *root = read_test_file("oces2-prod/root.crt.pem", &root_len);
  uint8_t *data = read_test_file("oces2-prod/foces.p12", &len);
  o.key_file = s->key;
  o.now = TEST_TIME;
  MUST_OK(dpgcert_store_create(&store, s->db, &o));
  MUST_OK(dpgcert_store_add_organisation(store, "12345674", "Testfirma A/S"));
  v.at = TEST_TIME;
  v.trust = root;
  v.trust_len = root_len;
  io.validation = &v;
  io.organisation_cvr = "12345674";
  io.mailbox = "sikkerpost@testfirma.dk";
  MUST_OK(dpgcert_store_import(&result, store, data, len, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN, &io));
  MUST_OK(dpgcert_certificate_fingerprint(cert, fp, &n));
  dpgcert_import_result_free(result);
  dpgcert_certificate_free(cert);
  free(root);
  free(data);
  return store;
}

/* The FOCES certificate's public key (OpenSSL, a third party). */
static EVP_PKEY *certificate_key(void) {
  size_t len = 0;
  uint8_t *pem = read_test_file("oces2-prod/foces.crt.pem", &len);
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
  EVP_PKEY *key;
  MUST(x != NULL);
  key = X509_get_pubkey(x);
  X509_free(x);
  BIO_free(bio);
  free(pem);
  return key;
}

static void test_sign_and_decrypt(void) {
  scratch s = make_scratch("dpgcert-c-token");
  dpgcert_store *store;
  dpgcert_token *token = NULL;
  dpgcert_token_options to = DPGCERT_TOKEN_OPTIONS_INIT;
  dpgcert_pkcs12 *bundle = NULL;
  char fp[65], *key_uri = NULL;
  size_t created = 9, sig_len, out_len;
  uint8_t sig[512], out[512], ct[512];
  static const char message[] = "S/MIME content";
  static const char cek[] = "0123456789abcdef0123456789abcdef";
  int matches = -1;
  EVP_PKEY *pub;
  EVP_MD_CTX *md;
  EVP_PKEY_CTX *pctx = NULL;
  size_t ct_len = sizeof ct;

  if (!make_token(&s, "c-token")) {
    remove_scratch(&s);
    return;
  }
  store = store_with_certificate(&s, fp);

  /* A wrong PIN first (PKCS#11 logins are per process: later sessions share the first login). */
  to.pin = (const uint8_t *)"wrong";
  to.pin_len = 5;
  CHECK_RC(dpgcert_token_open(&token, "pkcs11:token=c-token", &to), DPGCERT_E_BAD_PASSWORD);
  CHECK(token == NULL);
  CHECK_RC(dpgcert_token_open(&token, "pkcs11:token=no-such-token", &to), DPGCERT_E_NOT_FOUND);
  CHECK_RC(dpgcert_token_open(&token, "not a uri", &to), DPGCERT_E_MALFORMED);
  to.pin = PIN_BYTES;
  to.pin_len = PIN_LEN;
  REQUIRE_OK(dpgcert_token_open(&token, "pkcs11:token=c-token", &to));

  /* Before: no key reference; after: the key's URI, and the bundle without its key. */
  GET_TEXT(key_uri, dpgcert_store_current_key_uri(store, "sikkerpost@testfirma.dk", buf, lenp));
  REQUIRE(key_uri != NULL);
  CHECK(strcmp(key_uri, "") == 0);
  free(key_uri);
  REQUIRE_OK(dpgcert_store_import_to_token(store, fp, token, &created));
  CHECK(created == 3);
  REQUIRE_OK(dpgcert_store_import_to_token(store, fp, token, &created));
  CHECK(created == 0);
  GET_TEXT(key_uri, dpgcert_store_current_key_uri(store, "sikkerpost@testfirma.dk", buf, lenp));
  REQUIRE(key_uri != NULL);
  CHECK(strncmp(key_uri, "pkcs11:", 7) == 0);
  CHECK(strstr(key_uri, "type=private") != NULL);
  REQUIRE_OK(dpgcert_store_current_bundle(&bundle, store, "sikkerpost@testfirma.dk"));
  REQUIRE_OK(dpgcert_pkcs12_key_matches(bundle, &matches));
  CHECK(matches == 0); /* no key in it */
  dpgcert_pkcs12_free(bundle);

  /* Sign in the token, verify with OpenSSL against the certificate. */
  pub = certificate_key();
  REQUIRE(pub != NULL);
  sig_len = 10;
  CHECK_RC(dpgcert_token_sign(token, key_uri, DPGCERT_SIGN_RSA_PKCS1V15_SHA256, (const uint8_t *)message,
                              sizeof message - 1, sig, &sig_len),
           DPGCERT_E_BUFFER_TOO_SMALL);
  CHECK(sig_len == 256);
  sig_len = sizeof sig;
  REQUIRE_OK(dpgcert_token_sign(token, key_uri, DPGCERT_SIGN_RSA_PKCS1V15_SHA256, (const uint8_t *)message,
                                sizeof message - 1, sig, &sig_len));
  md = EVP_MD_CTX_new();
  REQUIRE(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1);
  CHECK(EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)message, sizeof message - 1) == 1);
  EVP_MD_CTX_free(md);
  sig_len = sizeof sig;
  REQUIRE_OK(dpgcert_token_sign(token, key_uri, DPGCERT_SIGN_RSA_PSS_SHA256, (const uint8_t *)message,
                                sizeof message - 1, sig, &sig_len));
  md = EVP_MD_CTX_new();
  REQUIRE(EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pub) == 1);
  REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1);
  REQUIRE(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1);
  CHECK(EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)message, sizeof message - 1) == 1);
  EVP_MD_CTX_free(md);

  /* An S/MIME-style OAEP key transport, encrypted by OpenSSL, decrypted in the token. */
  pctx = EVP_PKEY_CTX_new(pub, NULL);
  REQUIRE(EVP_PKEY_encrypt_init(pctx) == 1);
  REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) == 1);
  REQUIRE(EVP_PKEY_encrypt(pctx, ct, &ct_len, (const unsigned char *)cek, sizeof cek - 1) == 1);
  EVP_PKEY_CTX_free(pctx);
  out_len = sizeof out;
  REQUIRE_OK(dpgcert_token_decrypt(token, key_uri, DPGCERT_DECRYPT_RSA_OAEP_SHA1, ct, ct_len, out, &out_len));
  CHECK(out_len == sizeof cek - 1 && memcmp(out, cek, out_len) == 0);
  /* The wrong scheme for this ciphertext does not decrypt; an unknown scheme is refused. */
  out_len = sizeof out;
  CHECK_RC(dpgcert_token_decrypt(token, key_uri, DPGCERT_DECRYPT_RSA_PKCS1V15, ct, ct_len, out, &out_len),
           DPGCERT_E_BAD_PASSWORD);
  CHECK_RC(dpgcert_token_decrypt(token, key_uri, 99, ct, ct_len, out, &out_len), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_token_sign(token, key_uri, 0, ct, ct_len, sig, &sig_len), DPGCERT_E_INVALID_ARGUMENT);
  /* A key that is not there. */
  sig_len = sizeof sig;
  CHECK_RC(dpgcert_token_sign(token, "pkcs11:token=c-token;id=%99", DPGCERT_SIGN_RSA_PSS_SHA256, ct, ct_len, sig,
                              &sig_len),
           DPGCERT_E_NOT_FOUND);
  CHECK_ERROR_MENTIONS("dpgcert_token_sign");
  CHECK_RC(dpgcert_token_sign(NULL, key_uri, DPGCERT_SIGN_RSA_PSS_SHA256, ct, ct_len, sig, &sig_len),
           DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_store_import_to_token(store, "0000000000000000", token, NULL), DPGCERT_E_NOT_FOUND);
  CHECK_RC(dpgcert_store_current_key_uri(store, "nobody@testfirma.dk", NULL, &out_len), DPGCERT_E_NOT_FOUND);

  EVP_PKEY_free(pub);
  free(key_uri);
  dpgcert_token_free(token);
  dpgcert_token_free(NULL);
  dpgcert_store_free(store);
  remove_tokens(&s);
  remove_scratch(&s);
}

static const c_test_case cases[] = {{"sign_and_decrypt", test_sign_and_decrypt}};
C_TEST_MAIN(cases)
