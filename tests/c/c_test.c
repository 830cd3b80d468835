/* The C test harness (see c_test.h). */
#define _POSIX_C_SOURCE 200809L
#include "c_test.h"

#include <dirent.h>
#include <unistd.h>

#include <openssl/sha.h>

int c_test_failures = 0;
const char *c_test_current = "";

void c_test_fail(const char *file, int line, const char *what) {
  fprintf(stderr, "%s:%d: [%s] failed: %s\n  last dpgcert error: %s\n", file, line, c_test_current, what,
          dpgcert_error_last());
  ++c_test_failures;
}

void c_test_fail_rc(const char *file, int line, const char *expr, int got, int want) {
  fprintf(stderr, "%s:%d: [%s] %s\n  returned %d (%s), expected %d (%s)\n  last dpgcert error: %s\n", file, line,
          c_test_current, expr, got, dpgcert_error_name(got), want, dpgcert_error_name(want), dpgcert_error_last());
  ++c_test_failures;
}

static const char *env_dir(const char *name) {
  const char *dir = getenv(name);
  if (dir == NULL || *dir == '\0') {
    fprintf(stderr, "%s is not set (ctest sets it; the fixtures make the data)\n", name);
    exit(2);
  }
  return dir;
}

const char *test_data_dir(void) { return env_dir("DPGCERT_TEST_DATA"); }

const char *binding_data_dir(void) { return env_dir("DPGCERT_BINDING_DATA"); }

uint8_t *read_file_at(const char *dir, const char *relative, size_t *len) {
  char path[4096];
  FILE *f;
  long size;
  uint8_t *data;
  snprintf(path, sizeof path, "%s/%s", dir, relative);
  f = fopen(path, "rb");
  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  data = (uint8_t *)malloc((size_t)size + 1);
  if (data == NULL || fread(data, 1, (size_t)size, f) != (size_t)size) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  fclose(f);
  *len = (size_t)size;
  return data;
}

uint8_t *read_test_file(const char *relative, size_t *len) { return read_file_at(test_data_dir(), relative, len); }

void sha256_hex(const uint8_t *data, size_t len, char out[65]) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  int i;
  SHA256(data, len, md);
  for (i = 0; i < SHA256_DIGEST_LENGTH; ++i) snprintf(out + 2 * i, 3, "%02x", md[i]);
}

dpgcert_certificate *load_test_certificate(const char *relative) {
  size_t len = 0;
  uint8_t *data = read_test_file(relative, &len);
  dpgcert_certificate_list *list = NULL;
  dpgcert_certificate *cert = NULL;
  if (dpgcert_certificates_load(&list, data, len) != DPGCERT_OK ||
      dpgcert_certificate_list_get(&cert, list, 0) != DPGCERT_OK) {
    fprintf(stderr, "cannot load %s: %s\n", relative, dpgcert_error_last());
    exit(2);
  }
  dpgcert_certificate_list_free(list);
  free(data);
  return cert;
}

dpgcert_pkcs12 *load_test_pkcs12(const char *relative, const char *password) {
  size_t len = 0;
  uint8_t *data = read_test_file(relative, &len);
  dpgcert_pkcs12 *bundle = NULL;
  if (dpgcert_pkcs12_load(&bundle, data, len, (const uint8_t *)password, strlen(password)) != DPGCERT_OK) {
    fprintf(stderr, "cannot open %s: %s\n", relative, dpgcert_error_last());
    exit(2);
  }
  free(data);
  return bundle;
}

int c_test_run(const c_test_case *cases, size_t count, int argc, char **argv) {
  size_t i;
  int ran = 0;
  if (argc > 1 && strcmp(argv[1], "--list") == 0) {
    for (i = 0; i < count; ++i) printf("%s\n", cases[i].name);
    return 0;
  }
  for (i = 0; i < count; ++i) {
    int before = c_test_failures;
    if (argc > 1 && strcmp(argv[1], cases[i].name) != 0) continue;
    c_test_current = cases[i].name;
    cases[i].run();
    printf("%s %s\n", c_test_failures == before ? "ok  " : "FAIL", cases[i].name);
    ++ran;
  }
  if (ran == 0) {
    fprintf(stderr, "no test case named %s\n", argc > 1 ? argv[1] : "(any)");
    return 2;
  }
  printf("%d failure(s) in %d case(s)\n", c_test_failures, ran);
  return c_test_failures == 0 ? 0 : 1;
}

scratch make_scratch(const char *prefix) {
  scratch s;
  const char *tmp = getenv("TMPDIR");
  snprintf(s.dir, sizeof s.dir, "%s/%s-XXXXXX", tmp != NULL && *tmp != '\0' ? tmp : "/tmp", prefix);
  if (mkdtemp(s.dir) == NULL) {
    perror("mkdtemp");
    exit(2);
  }
  snprintf(s.db, sizeof s.db, "%s/store.db", s.dir);
  snprintf(s.key, sizeof s.key, "%s/store.key", s.dir);
  return s;
}

void remove_scratch(const scratch *s) {
  DIR *d = opendir(s->dir);
  struct dirent *e;
  char path[600];
  if (d == NULL) return;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    snprintf(path, sizeof path, "%s/%s", s->dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(s->dir);
}
