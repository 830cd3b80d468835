/* A small test harness for the C API tests, in C99: checks that report and go on, checks that
 * stop the test, helpers for test data, and one macro that drives a getter through every step of
 * the output-buffer protocol (size query, too small, NULL buffer, NULL length, exact fit). */
#ifndef DPGCERT_C_TEST_H
#define DPGCERT_C_TEST_H

#include <dpgcert/dpgcert.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int c_test_failures;
extern const char *c_test_current;

/** Reports a failed check (with the last dpgcert error) and counts it. */
void c_test_fail(const char *file, int line, const char *what);
/** Reports an unexpected status code. */
void c_test_fail_rc(const char *file, int line, const char *expr, int got, int want);

#define CHECK(cond) \
  do { \
    if (!(cond)) c_test_fail(__FILE__, __LINE__, #cond); \
  } while (0)

/* Evaluates `expr` once and checks that it returned `want`. */
#define CHECK_RC(expr, want) \
  do { \
    int c_test_rc_ = (expr); \
    if (c_test_rc_ != (want)) c_test_fail_rc(__FILE__, __LINE__, #expr, c_test_rc_, (want)); \
  } while (0)

/* Stops the current test when `expr` does not succeed: what follows depends on it. */
#define REQUIRE_OK(expr) \
  do { \
    int c_test_rc_ = (expr); \
    if (c_test_rc_ != DPGCERT_OK) { \
      c_test_fail_rc(__FILE__, __LINE__, #expr, c_test_rc_, DPGCERT_OK); \
      return; \
    } \
  } while (0)

#define REQUIRE(cond) \
  do { \
    if (!(cond)) { \
      c_test_fail(__FILE__, __LINE__, #cond); \
      return; \
    } \
  } while (0)

/* Checks that a failed call's message names the function and says something. */
#define CHECK_ERROR_MENTIONS(function_name) \
  do { \
    const char *c_test_msg_ = dpgcert_error_last(); \
    CHECK(strncmp(c_test_msg_, function_name ": ", strlen(function_name ": ")) == 0); \
    CHECK(strlen(c_test_msg_) > strlen(function_name ": ")); \
  } while (0)

/* Drives a text getter through the output-buffer protocol. CALL is the call with `buf` and `lenp`
 * in place of the buffer and the length pointer, e.g.
 *   CHECK_OUT_TEXT(dpgcert_certificate_subject(cert, buf, lenp));
 * It checks: a size query (NULL, 0) gives BUFFER_TOO_SMALL and the size; one byte less is too
 * small and reports the size again; a NULL buffer with a non-zero length and a NULL length are
 * NULL_ARGUMENT; the exact size succeeds with a NUL-terminated text of size - 1 characters. */
#define CHECK_OUT_TEXT(CALL) \
  do { \
    size_t c_len_ = 0; \
    size_t *lenp = &c_len_; \
    char *buf = NULL; \
    size_t c_need_; \
    CHECK_RC(CALL, DPGCERT_E_BUFFER_TOO_SMALL); \
    c_need_ = c_len_; \
    CHECK(c_need_ >= 1); \
    c_len_ = 4; \
    CHECK_RC(CALL, DPGCERT_E_NULL_ARGUMENT); \
    lenp = NULL; \
    CHECK_RC(CALL, DPGCERT_E_NULL_ARGUMENT); \
    lenp = &c_len_; \
    buf = (char *)malloc(c_need_ + 1); \
    if (buf == NULL) abort(); \
    memset(buf, 'x', c_need_ + 1); \
    c_len_ = c_need_ - 1; \
    CHECK_RC(CALL, DPGCERT_E_BUFFER_TOO_SMALL); \
    CHECK(c_len_ == c_need_); \
    CHECK(buf[0] == 'x'); \
    c_len_ = c_need_; \
    CHECK_RC(CALL, DPGCERT_OK); \
    CHECK(c_len_ == c_need_); \
    CHECK(buf[c_need_ - 1] == '\0'); \
    CHECK(strlen(buf) == c_need_ - 1); \
    CHECK(buf[c_need_] == 'x'); \
    free(buf); \
  } while (0)

/* The same for a byte getter (no terminating NUL; an empty output would need no buffer). */
#define CHECK_OUT_BYTES(CALL) \
  do { \
    size_t c_len_ = 0; \
    size_t *lenp = &c_len_; \
    uint8_t *buf = NULL; \
    size_t c_need_; \
    CHECK_RC(CALL, DPGCERT_E_BUFFER_TOO_SMALL); \
    c_need_ = c_len_; \
    CHECK(c_need_ >= 1); \
    c_len_ = 4; \
    CHECK_RC(CALL, DPGCERT_E_NULL_ARGUMENT); \
    lenp = NULL; \
    CHECK_RC(CALL, DPGCERT_E_NULL_ARGUMENT); \
    lenp = &c_len_; \
    buf = (uint8_t *)malloc(c_need_ + 1); \
    if (buf == NULL) abort(); \
    memset(buf, 0xAB, c_need_ + 1); \
    c_len_ = c_need_ - 1; \
    CHECK_RC(CALL, DPGCERT_E_BUFFER_TOO_SMALL); \
    CHECK(c_len_ == c_need_); \
    c_len_ = c_need_ + 1; \
    CHECK_RC(CALL, DPGCERT_OK); \
    CHECK(c_len_ == c_need_); \
    CHECK(buf[c_need_] == 0xAB); \
    free(buf); \
  } while (0)

/* A text getter's value, malloc'd (NULL after a failed check). CALL as for CHECK_OUT_TEXT. */
#define GET_TEXT(var, CALL) \
  do { \
    size_t c_len_ = 0; \
    size_t *lenp = &c_len_; \
    char *buf = NULL; \
    (var) = NULL; \
    CHECK_RC(CALL, DPGCERT_E_BUFFER_TOO_SMALL); \
    if (c_len_ == 0) break; \
    buf = (char *)malloc(c_len_); \
    if (buf == NULL) abort(); \
    if ((CALL) == DPGCERT_OK) { \
      (var) = buf; \
    } else { \
      c_test_fail(__FILE__, __LINE__, #CALL); \
      free(buf); \
    } \
  } while (0)

/** The test data folder ($DPGCERT_TEST_DATA). */
const char *test_data_dir(void);
/** The extra binding test data folder ($DPGCERT_BINDING_DATA). */
const char *binding_data_dir(void);
/** A file of the synthetic PKI, malloc'd; aborts the process when it cannot be read. */
uint8_t *read_test_file(const char *relative, size_t *len);
/** Any file, malloc'd; aborts when it cannot be read. */
uint8_t *read_file_at(const char *dir, const char *relative, size_t *len);
/** Lowercase hex SHA-256 (65 bytes with the NUL) of data, computed by OpenSSL as a cross-check. */
void sha256_hex(const uint8_t *data, size_t len, char out[65]);
/** The (only) certificate of a PEM or DER file of the synthetic PKI, as a new handle. */
dpgcert_certificate *load_test_certificate(const char *relative);
/** A PKCS#12 file of the synthetic PKI opened with `password`. */
dpgcert_pkcs12 *load_test_pkcs12(const char *relative, const char *password);

/** 2025-06-01T00:00:00Z, the synthetic PKI's validation time. */
#define TEST_TIME INT64_C(1748736000)
#define TEST_PASSWORD "Test1234"
#define TEST_PASSWORD_BYTES ((const uint8_t *)TEST_PASSWORD)
#define TEST_PASSWORD_LEN (sizeof(TEST_PASSWORD) - 1)

typedef struct c_test_case {
  const char *name;
  void (*run)(void);
} c_test_case;

/** A scratch folder for a store: `dir` (made with mkdtemp under $TMPDIR or /tmp, named after
 *  `prefix`), `db` and `key` inside it. Exits the program when the folder cannot be made. */
typedef struct scratch {
  char dir[256];
  char db[300];
  char key[300];
} scratch;
scratch make_scratch(const char *prefix);
/** Removes the files in the scratch folder, then the folder. */
void remove_scratch(const scratch *s);

/** Runs every case (or the one named on the command line; --list prints the names); returns the
 *  process exit status. */
int c_test_run(const c_test_case *cases, size_t count, int argc, char **argv);

#define C_TEST_MAIN(cases) \
  int main(int argc, char **argv) { return c_test_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv); }

#endif /* DPGCERT_C_TEST_H */
