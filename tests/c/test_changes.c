/* C API: change notifications. SQLite stores refuse to listen (DPGCERT_E_UNSUPPORTED); on
 * PostgreSQL (the ctest fixture's server, $DPGCERT_TEST_POSTGRESQL_DIR) committed changes reach
 * the callback, and a listener whose connection was ended reports a reload. Without a server the
 * PostgreSQL cases say so and pass. */
#define _POSIX_C_SOURCE 200809L
#include "c_test.h"

#ifdef C_TEST_HAVE_LIBPQ
#include <libpq-fe.h>
#endif

#include <time.h>
#include <unistd.h>

typedef struct heard {
  int count;
  int stop_after; /* 0: never stop */
  int kinds[8];
  char mailbox[8][128];
  char fingerprint[8][80];
} heard;

static int on_change(int kind, const char *mailbox, const char *fingerprint, void *payload) {
  heard *h = (heard *)payload;
  if (h->count < 8) {
    h->kinds[h->count] = kind;
    snprintf(h->mailbox[h->count], sizeof h->mailbox[0], "%s", mailbox != NULL ? mailbox : "(null)");
    snprintf(h->fingerprint[h->count], sizeof h->fingerprint[0], "%s", fingerprint != NULL ? fingerprint : "(null)");
  }
  ++h->count;
  return h->stop_after != 0 && h->count >= h->stop_after;
}

static void test_sqlite_is_unsupported(void) {
  scratch s = make_scratch("dpgcert-c-changes");
  dpgcert_store_options o = DPGCERT_STORE_OPTIONS_INIT;
  dpgcert_store *store = NULL;
  dpgcert_change_listener *listener = (dpgcert_change_listener *)&o; /* must be reset to NULL */
  heard h;
  size_t handed = 9;

  memset(&h, 0, sizeof h);
  o.key_file = s.key;
  REQUIRE_OK(dpgcert_store_create(&store, s.db, &o));
  CHECK_RC(dpgcert_store_listen(&listener, store), DPGCERT_E_UNSUPPORTED);
  CHECK(listener == NULL);
  CHECK(strstr(dpgcert_error_last(), "sends no change notifications") != NULL);
  CHECK_ERROR_MENTIONS("dpgcert_store_listen");
  CHECK_RC(dpgcert_store_listen(NULL, store), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_store_listen(&listener, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_change_listener_poll(NULL, 0, on_change, &h, &handed), DPGCERT_E_NULL_ARGUMENT);
  CHECK(handed == 9);
  dpgcert_change_listener_free(NULL);
  dpgcert_store_free(store);
  remove_scratch(&s);
}

#ifdef C_TEST_HAVE_LIBPQ
/* Runs SQL on the server at `uri`; returns the first cell of the first row (static), or NULL. */
static const char *admin(const char *uri, const char *sql) {
  static char value[256];
  PGconn *conn = PQconnectdb(uri);
  PGresult *r;
  const char *out = NULL;
  if (PQstatus(conn) != CONNECTION_OK) {
    fprintf(stderr, "cannot connect to %s: %s", uri, PQerrorMessage(conn));
    PQfinish(conn);
    return NULL;
  }
  r = PQexec(conn, sql);
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) {
    snprintf(value, sizeof value, "%s", PQgetvalue(r, 0, 0));
    out = value;
  } else if (PQresultStatus(r) == PGRES_COMMAND_OK) {
    value[0] = '\0';
    out = value;
  } else {
    fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
  }
  PQclear(r);
  PQfinish(conn);
  return out;
}

/* A new database on the fixture's server: its URI in `uri` and name in `name`; 0 when there is
 * no server (the case then passes, saying so). */
static int new_database(char *uri, size_t uri_size, char *name, size_t name_size) {
  const char *dir = getenv("DPGCERT_TEST_POSTGRESQL_DIR");
  char path[512], server[256], sql[128];
  FILE *f;
  char *slash;
  if (dir == NULL || *dir == '\0') {
    printf("postgresql: skipped, DPGCERT_TEST_POSTGRESQL_DIR is not set\n");
    return 0;
  }
  snprintf(path, sizeof path, "%s/uri", dir);
  f = fopen(path, "r");
  if (f == NULL) {
    printf("postgresql: skipped, no test server (%s)\n", path);
    return 0;
  }
  if (fgets(server, sizeof server, f) == NULL) {
    fclose(f);
    c_test_fail(__FILE__, __LINE__, "the fixture's uri file is empty");
    return 0;
  }
  fclose(f);
  server[strcspn(server, "\r\n")] = '\0';
  snprintf(name, name_size, "c_changes_%ld", (long)getpid());
  snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
  slash = strrchr(server, '/');
  if (admin(server, sql) == NULL || slash == NULL) {
    c_test_fail(__FILE__, __LINE__, "cannot make a database on the test server");
    return 0;
  }
  slash[1] = '\0';
  snprintf(uri, uri_size, "%s%s", server, name);
  return 1;
}

static void test_changes_reach_the_callback(void) {
  scratch s = make_scratch("dpgcert-c-changes");
  dpgcert_store_options o = DPGCERT_STORE_OPTIONS_INIT;
  dpgcert_import_options io = DPGCERT_IMPORT_OPTIONS_INIT;
  dpgcert_validate_options v = DPGCERT_VALIDATE_OPTIONS_INIT;
  dpgcert_store *store = NULL;
  dpgcert_change_listener *listener = NULL;
  dpgcert_import_result *result = NULL;
  char uri[512], name[64], sql[256], *fingerprint = NULL;
  uint8_t *root, *p12;
  size_t root_len = 0, p12_len = 0, handed = 9, retired = 0;
  heard h;
  const char *ended;

  if (!new_database(uri, sizeof uri, name, sizeof name)) {
    remove_scratch(&s);
    return;
  }
  memset(&h, 0, sizeof h);
  o.key_file = s.key;
  o.now = TEST_TIME;
  REQUIRE_OK(dpgcert_store_create(&store, uri, &o));
  REQUIRE_OK(dpgcert_store_add_organisation(store, "12345674", "Testfirma A/S"));
  REQUIRE_OK(dpgcert_store_add_organisation(store, "11111111", "Anden ApS"));
  REQUIRE_OK(dpgcert_store_listen(&listener, store));
  REQUIRE_OK(dpgcert_change_listener_poll(listener, 0, on_change, &h, &handed));
  CHECK(handed == 0 && h.count == 0);

  /* An import: heard with its mailbox and fingerprint. */
  root = read_test_file("oces2-prod/root.crt.pem", &root_len);
  p12 = read_test_file("oces2-prod/foces.p12", &p12_len);
  v.at = TEST_TIME;
  v.trust = root;
  v.trust_len = root_len;
  io.mailbox = "sikkerpost@testfirma.dk";
  io.organisation_cvr = "12345674";
  io.validation = &v;
  REQUIRE_OK(dpgcert_store_import(&result, store, p12, p12_len, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN, &io));
  GET_TEXT(fingerprint, dpgcert_import_result_fingerprint(result, buf, lenp));
  REQUIRE(fingerprint != NULL);
  dpgcert_import_result_free(result);
  REQUIRE_OK(dpgcert_change_listener_poll(listener, 2000, on_change, &h, &handed));
  REQUIRE(handed == 1 && h.count == 1);
  CHECK(h.kinds[0] == DPGCERT_CHANGE_CERTIFICATE_IMPORTED);
  CHECK(strcmp(h.mailbox[0], "sikkerpost@testfirma.dk") == 0);
  CHECK(strcmp(h.fingerprint[0], fingerprint) == 0);

  /* A move, then a removal that retires the certificate: three changes; the callback stops after
   * the first, the next poll hands over the other two. */
  REQUIRE_OK(dpgcert_store_move_mailbox(store, "sikkerpost@testfirma.dk", "11111111"));
  REQUIRE_OK(dpgcert_store_remove_mailbox(store, "sikkerpost@testfirma.dk", DPGCERT_REMOVE_RETIRE_CERTIFICATES,
                                          &retired));
  CHECK(retired == 1);
  {
    const struct timespec pause = {0, 200000000L};
    nanosleep(&pause, NULL);
  }
  h.stop_after = 2;
  REQUIRE_OK(dpgcert_change_listener_poll(listener, 2000, on_change, &h, &handed));
  CHECK(handed == 1);
  CHECK(h.kinds[1] == DPGCERT_CHANGE_MAILBOX_MOVED);
  CHECK(strcmp(h.fingerprint[1], "(null)") == 0);
  h.stop_after = 0;
  REQUIRE_OK(dpgcert_change_listener_poll(listener, 2000, on_change, &h, &handed));
  CHECK(handed == 2);
  CHECK(h.kinds[2] == DPGCERT_CHANGE_CERTIFICATE_STATUS);
  CHECK(strcmp(h.fingerprint[2], fingerprint) == 0);
  CHECK(h.kinds[3] == DPGCERT_CHANGE_MAILBOX_REMOVED);
  CHECK(strcmp(h.mailbox[3], "sikkerpost@testfirma.dk") == 0);

  /* The server ends the listener's session: the next poll connects again and says reload. */
  snprintf(sql, sizeof sql,
           "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '%s' AND query LIKE 'LISTEN%%'",
           name);
  ended = admin(uri, sql);
  REQUIRE(ended != NULL);
  CHECK(strcmp(ended, "1") == 0);
  REQUIRE_OK(dpgcert_change_listener_poll(listener, 5000, on_change, &h, &handed));
  CHECK(handed == 1);
  CHECK(h.kinds[4] == DPGCERT_CHANGE_RELOAD);
  CHECK(strcmp(h.mailbox[4], "(null)") == 0);

  CHECK_RC(dpgcert_change_listener_poll(listener, -1, on_change, &h, &handed), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_change_listener_poll(listener, 0, NULL, &h, &handed), DPGCERT_E_NULL_ARGUMENT);
  dpgcert_change_listener_free(listener);
  dpgcert_store_free(store);
  free(fingerprint);
  free(root);
  free(p12);
  remove_scratch(&s);
}
#else
static void test_changes_reach_the_callback(void) { printf("postgresql: skipped, built without libpq\n"); }
#endif

static const c_test_case cases[] = {
    {"sqlite_is_unsupported", test_sqlite_is_unsupported},
    {"changes_reach_the_callback", test_changes_reach_the_callback},
};
C_TEST_MAIN(cases)
