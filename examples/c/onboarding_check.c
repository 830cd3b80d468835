/* The onboarding check a service centre runs on what a customer hands over: can the gateway use
 * this PKCS#12 file with this password? Prints who the certificate is for and the checklist.
 *
 *   DPGCERT_PASSWORD=... onboarding_check kunde.p12 [--trust roots.pem] [--at UNIX-SECONDS]
 *       [--environment production|test] [--cvr 12345674]
 *
 * The password comes from the environment, never from the command line. Exit status: 0 usable,
 * 1 usable with warnings, 2 not usable, 3 could not check, 64 usage. */
#define _POSIX_C_SOURCE 200809L
#include <dpgcert/dpgcert.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  uint8_t *data = NULL;
  long size;
  if (f == NULL) return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
    data = (uint8_t *)malloc((size_t)size + 1);
    if (data != NULL && fread(data, 1, (size_t)size, f) != (size_t)size) {
      free(data);
      data = NULL;
    }
    *len = (size_t)size;
  }
  fclose(f);
  return data;
}

/* Text from a getter that follows the size-negotiation protocol: ask for the size, then fetch. */
static char *identity_text(const dpgcert_identity *identity, int field) {
  size_t len = 0;
  char *text;
  if (dpgcert_identity_text(identity, field, NULL, &len) != DPGCERT_E_BUFFER_TOO_SMALL) return NULL;
  text = (char *)malloc(len);
  if (text != NULL && dpgcert_identity_text(identity, field, text, &len) != DPGCERT_OK) {
    free(text);
    return NULL;
  }
  return text;
}

static int fail(const char *what) {
  fprintf(stderr, "onboarding_check: %s: %s\n", what, dpgcert_error_last());
  return 3;
}

int main(int argc, char **argv) {
  const char *file = NULL, *trust_file = NULL;
  const char *password = getenv("DPGCERT_PASSWORD");
  dpgcert_validate_options options = DPGCERT_VALIDATE_OPTIONS_INIT;
  uint8_t *data, *trust = NULL;
  size_t len = 0, trust_len = 0, text_len = 0;
  dpgcert_report *report = NULL;
  dpgcert_certificate *cert = NULL;
  char *text;
  int i, verdict = DPGCERT_CHECK_FAIL, rc;

  if (dpgcert_abi_version() != DPGCERT_C_ABI_VERSION) {
    fprintf(stderr, "onboarding_check: built for C ABI %d, running with %d\n", DPGCERT_C_ABI_VERSION,
            dpgcert_abi_version());
    return 3;
  }
  options.at = (int64_t)time(NULL);
  for (i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--trust") == 0 && i + 1 < argc) {
      trust_file = argv[++i];
    } else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
      options.at = strtoll(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--environment") == 0 && i + 1 < argc) {
      ++i;
      options.environment = strcmp(argv[i], "production") == 0 ? DPGCERT_ENVIRONMENT_PRODUCTION
                            : strcmp(argv[i], "test") == 0     ? DPGCERT_ENVIRONMENT_TEST
                                                               : -1;
    } else if (strcmp(argv[i], "--cvr") == 0 && i + 1 < argc) {
      options.expected_cvr = argv[++i];
    } else if (argv[i][0] != '-' && file == NULL) {
      file = argv[i];
    } else {
      file = NULL;
      break;
    }
  }
  if (file == NULL || password == NULL || options.environment < 0) {
    fprintf(stderr, "usage: DPGCERT_PASSWORD=... onboarding_check FILE [--trust PEM] [--at UNIX-SECONDS] "
                    "[--environment production|test] [--cvr CVR]\n");
    return 64;
  }
  if ((data = read_file(file, &len)) == NULL) {
    perror(file);
    return 3;
  }
  if (trust_file != NULL) {
    if ((trust = read_file(trust_file, &trust_len)) == NULL) {
      perror(trust_file);
      return 3;
    }
    options.trust = trust;
    options.trust_len = trust_len;
  }

  /* A wrong password or an expired certificate is a report, not an error. */
  rc = dpgcert_validate_bytes(&report, data, len, (const uint8_t *)password, strlen(password), &options);
  free(data);
  free(trust);
  if (rc != DPGCERT_OK) return fail(file);

  printf("dpgcert %s (C ABI %d)\n", dpgcert_version(), dpgcert_abi_version());
  if (dpgcert_report_certificate(&cert, report) == DPGCERT_OK) {
    dpgcert_identity *identity = NULL;
    if (dpgcert_certificate_identity(&identity, cert) == DPGCERT_OK) {
      char *summary = identity_text(identity, DPGCERT_IDENTITY_SUMMARY);
      char *cvr = identity_text(identity, DPGCERT_IDENTITY_CVR);
      printf("Identity     %s\n", summary != NULL ? summary : "?");
      printf("CVR          %s\n", cvr != NULL ? cvr : "(none)");
      free(summary);
      free(cvr);
      dpgcert_identity_free(identity);
    }
    dpgcert_certificate_free(cert);
  } else {
    printf("Identity     (the file did not open)\n");
  }

  /* The checklist: ask for its size, then fetch it. */
  if (dpgcert_report_text(report, NULL, &text_len) != DPGCERT_E_BUFFER_TOO_SMALL) return fail("report");
  text = (char *)malloc(text_len);
  if (text == NULL || dpgcert_report_text(report, text, &text_len) != DPGCERT_OK) return fail("report");
  fputs(text, stdout);
  free(text);
  if (dpgcert_report_verdict(report, &verdict) != DPGCERT_OK) return fail("report");
  dpgcert_report_free(report);
  return verdict == DPGCERT_CHECK_PASS ? 0 : verdict == DPGCERT_CHECK_WARN ? 1 : 2;
}
