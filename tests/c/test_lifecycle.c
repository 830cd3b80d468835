/* C API: renewal tracking - checks over a store, their events, and the callback sink. */
#define _POSIX_C_SOURCE 200809L
#include "c_test.h"


#define DAY INT64_C(86400)
#define MAILBOX "faktura@testfirma.dk"
#define SINK "c-test"

/* What the callback saw, and what it answers. */
typedef struct seen {
  int calls;
  int answer;
  int64_t last_kind;
  char last_id[64];
} seen;

static int on_event(const dpgcert_event *event, void *payload) {
  seen *s = (seen *)payload;
  size_t len = sizeof s->last_id;
  ++s->calls;
  if (dpgcert_event_int(event, DPGCERT_EVENT_KIND, &s->last_kind) != DPGCERT_OK) return 99;
  if (dpgcert_event_text(event, DPGCERT_EVENT_ID, s->last_id, &len) != DPGCERT_OK) return 99;
  return s->answer;
}

static void import_file(dpgcert_store *store, const char *file, const char *mailbox, const uint8_t *root,
                        size_t root_len) {
  dpgcert_import_options io = DPGCERT_IMPORT_OPTIONS_INIT;
  dpgcert_validate_options v = DPGCERT_VALIDATE_OPTIONS_INIT;
  dpgcert_import_result *result = NULL;
  size_t len = 0;
  uint8_t *data = read_test_file(file, &len);
  int outcome = -1;
  v.at = TEST_TIME;
  v.trust = root;
  v.trust_len = root_len;
  io.mailbox = mailbox;
  io.validation = &v;
  if (dpgcert_store_import(&result, store, data, len, TEST_PASSWORD_BYTES, TEST_PASSWORD_LEN, &io) != DPGCERT_OK ||
      dpgcert_import_result_outcome(result, &outcome) != DPGCERT_OK || outcome != DPGCERT_IMPORT_IMPORTED) {
    fprintf(stderr, "cannot import %s: %s\n", file, dpgcert_error_last());
    exit(2);
  }
  dpgcert_import_result_free(result);
  free(data);
}

/* A store (clock at TEST_TIME) with the certificate that ends 2025-06-20 in MAILBOX and the
 * callback sink SINK. */
static dpgcert_store *tracked_store(const scratch *s, uint8_t **root, size_t *root_len) {
  dpgcert_store_options o = DPGCERT_STORE_OPTIONS_INIT;
  dpgcert_store *store = NULL;
  o.key_file = s->key;
  o.now = TEST_TIME;
  *root = read_test_file("oces2-prod/root.crt.pem", root_len);
  if (dpgcert_store_create(&store, s->db, &o) != DPGCERT_OK) {
    fprintf(stderr, "cannot create a store: %s\n", dpgcert_error_last());
    exit(2);
  }
  import_file(store, "odd/foces-expiring-soon.p12", MAILBOX, *root, *root_len);
  if (dpgcert_store_add_callback_sink(store, SINK) != DPGCERT_OK) {
    fprintf(stderr, "cannot add the sink: %s\n", dpgcert_error_last());
    exit(2);
  }
  return store;
}

static int64_t result_int(const dpgcert_check_result *r, int field) {
  int64_t v = -1;
  if (dpgcert_check_result_int(r, field, &v) != DPGCERT_OK) return INT64_MIN;
  return v;
}

static int64_t event_int(const dpgcert_event *e, int field) {
  int64_t v = -1;
  if (dpgcert_event_int(e, field, &v) != DPGCERT_OK) return INT64_MIN;
  return v;
}

static char *event_text(const dpgcert_event *e, int field) {
  char *text = NULL;
  GET_TEXT(text, dpgcert_event_text(e, field, buf, lenp));
  return text;
}

static int text_is(char *got, const char *want) {
  int same = got != NULL && strcmp(got, want) == 0;
  if (!same) fprintf(stderr, "got '%s', want '%s'\n", got != NULL ? got : "(none)", want);
  free(got);
  return same;
}

static void test_threshold_events_reach_the_callback(void) {
  scratch s = make_scratch("dpgcert-c-check");
  uint8_t *root = NULL;
  size_t root_len = 0;
  dpgcert_store *store = tracked_store(&s, &root, &root_len);
  dpgcert_check_options o = DPGCERT_CHECK_OPTIONS_INIT;
  dpgcert_check_result *r = NULL;
  const dpgcert_event *e = NULL;
  seen calls = {0, 0, -1, ""};
  dpgcert_certificate *cert = load_test_certificate("odd/foces-expiring-soon.crt.pem");
  char *fp = NULL, *id = NULL;

  o.callback_sink = SINK;
  /* 2025-06-01: 19 days left, so the 30-day threshold has been crossed: one event. */
  REQUIRE_OK(dpgcert_store_check(&r, store, TEST_TIME, &o, on_event, &calls));
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_AT) == TEST_TIME);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_EVALUATED) >= 1);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_EMITTED) == 1);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_DELIVERED) == 1);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_FAILED) == 0);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_WARNING) == 1);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_CRITICAL) == 0);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_WORST) == DPGCERT_SEVERITY_WARNING);
  CHECK(calls.calls == 1);
  CHECK(calls.last_kind == DPGCERT_EVENT_KIND_EXPIRING);
  REQUIRE_OK(dpgcert_check_result_event(r, 0, &e));
  REQUIRE(e != NULL);
  CHECK(event_int(e, DPGCERT_EVENT_KIND) == DPGCERT_EVENT_KIND_EXPIRING);
  CHECK(event_int(e, DPGCERT_EVENT_STAGE_DAYS) == 30);
  CHECK(event_int(e, DPGCERT_EVENT_DAYS_LEFT) == 19);
  CHECK(event_int(e, DPGCERT_EVENT_AT) == TEST_TIME);
  CHECK(event_int(e, DPGCERT_EVENT_NOT_AFTER) == INT64_C(1750377600)); /* 2025-06-20 */
  /* Its issuers end later (2035, 2040): the effective expiry is the leaf's own. */
  CHECK(event_int(e, DPGCERT_EVENT_EFFECTIVE_NOT_AFTER) == INT64_C(1750377600));
  CHECK(event_int(e, DPGCERT_EVENT_CERTIFICATE_ID) > 0);
  /* The callback saw this very event (the same id, the idempotency key). */
  id = event_text(e, DPGCERT_EVENT_ID);
  CHECK(id != NULL && strlen(id) == 32 && strcmp(id, calls.last_id) == 0);
  free(id);
  GET_TEXT(fp, dpgcert_certificate_fingerprint(cert, buf, lenp));
  CHECK(text_is(event_text(e, DPGCERT_EVENT_FINGERPRINT), fp != NULL ? fp : "?"));
  CHECK(text_is(event_text(e, DPGCERT_EVENT_CVR), "12345674"));
  CHECK(text_is(event_text(e, DPGCERT_EVENT_MAILBOX), MAILBOX));
  CHECK(text_is(event_text(e, DPGCERT_EVENT_COMMON_NAME), "sikkerpost snart udloebet"));
  CHECK(text_is(event_text(e, DPGCERT_EVENT_ORGANISATION_NAME), "Testfirma A/S"));
  {
    char *json = event_text(e, DPGCERT_EVENT_JSON);
    CHECK(json != NULL && strstr(json, "\"kind\":\"expiring\"") != NULL);
    CHECK(json != NULL && fp != NULL && strstr(json, fp) != NULL);
    free(json);
  }
  {
    char small[8];
    size_t len = sizeof small;
    CHECK_RC(dpgcert_event_text(e, DPGCERT_EVENT_SUPERSEDED_BY, small, &len), DPGCERT_E_NOT_FOUND);
  }
  CHECK_OUT_TEXT(dpgcert_event_text(e, DPGCERT_EVENT_ID, buf, lenp));
  CHECK_OUT_TEXT(dpgcert_event_text(e, DPGCERT_EVENT_JSON, buf, lenp));
  dpgcert_check_result_free(r);

  /* The same day again: the stage was announced, nothing new. */
  REQUIRE_OK(dpgcert_store_check(&r, store, TEST_TIME + 3600, &o, on_event, &calls));
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_EMITTED) == 0);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_DELIVERED) == 0);
  CHECK(calls.calls == 1);
  dpgcert_check_result_free(r);

  free(fp);
  free(root);
  dpgcert_certificate_free(cert);
  dpgcert_store_free(store);
  remove_scratch(&s);
}

static void test_refused_events_come_back(void) {
  scratch s = make_scratch("dpgcert-c-check");
  uint8_t *root = NULL;
  size_t root_len = 0;
  dpgcert_store *store = tracked_store(&s, &root, &root_len);
  dpgcert_check_options o = DPGCERT_CHECK_OPTIONS_INIT;
  dpgcert_check_result *r = NULL;
  seen calls = {0, 1, -1, ""};
  char first_id[64];

  o.callback_sink = SINK;
  /* The callback says "not now" (non-zero): the delivery failed, the event stays in the outbox. */
  REQUIRE_OK(dpgcert_store_check(&r, store, TEST_TIME, &o, on_event, &calls));
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_EMITTED) == 1);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_DELIVERED) == 0);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_FAILED) == 1);
  CHECK(calls.calls == 1);
  memcpy(first_id, calls.last_id, sizeof first_id);
  dpgcert_check_result_free(r);
  /* An hour later (past the retry delay) it is offered again, with the same id, and taken. */
  calls.answer = 0;
  REQUIRE_OK(dpgcert_store_check(&r, store, TEST_TIME + 3600, &o, on_event, &calls));
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_EMITTED) == 0);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_DELIVERED) == 1);
  CHECK(calls.calls == 2);
  CHECK(strcmp(calls.last_id, first_id) == 0);
  dpgcert_check_result_free(r);
  /* Delivered: never again. */
  REQUIRE_OK(dpgcert_store_check(&r, store, TEST_TIME + 7200, &o, on_event, &calls));
  CHECK(calls.calls == 2);
  dpgcert_check_result_free(r);
  free(root);
  dpgcert_store_free(store);
  remove_scratch(&s);
}

static void test_renewal_expiry_and_record_only(void) {
  scratch s = make_scratch("dpgcert-c-check");
  uint8_t *root = NULL;
  size_t root_len = 0;
  dpgcert_store *store = tracked_store(&s, &root, &root_len);
  dpgcert_check_options o = DPGCERT_CHECK_OPTIONS_INIT;
  dpgcert_check_result *r = NULL;
  const dpgcert_event *e = NULL;
  seen calls = {0, 0, -1, ""};
  dpgcert_certificate *renewal = load_test_certificate("oces2-prod/foces.crt.pem");
  char *fp = NULL;

  /* Without a callback (or its sink): the events are recorded and wait for the callback sink. */
  REQUIRE_OK(dpgcert_store_check(&r, store, TEST_TIME, NULL, NULL, NULL));
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_EMITTED) == 1);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_DELIVERED) == 0);
  dpgcert_check_result_free(r);

  /* The renewal arrives for the mailbox: the old certificate is superseded and announced so. */
  import_file(store, "oces2-prod/foces.p12", MAILBOX, root, root_len);
  GET_TEXT(fp, dpgcert_certificate_fingerprint(renewal, buf, lenp));
  o.callback_sink = SINK;
  REQUIRE_OK(dpgcert_store_check(&r, store, TEST_TIME + DAY, &o, on_event, &calls));
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_EMITTED) == 1);
  REQUIRE_OK(dpgcert_check_result_event(r, 0, &e));
  CHECK(event_int(e, DPGCERT_EVENT_KIND) == DPGCERT_EVENT_KIND_RENEWED);
  CHECK(event_int(e, DPGCERT_EVENT_STAGE_DAYS) == INT64_MIN); /* no stage: not found */
  CHECK(text_is(event_text(e, DPGCERT_EVENT_SUPERSEDED_BY), fp != NULL ? fp : "?"));
  /* The waiting expiring event and the renewal both reached the callback. */
  CHECK(calls.calls == 2);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_DELIVERED) == 2);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_WARNING) == 0); /* the renewal has years left */
  dpgcert_check_result_free(r);

  /* Three years on the renewal has expired; record only, deliver later. */
  o.deliver = 0;
  REQUIRE_OK(dpgcert_store_check(&r, store, TEST_TIME + 3 * 365 * DAY, &o, on_event, &calls));
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_EMITTED) == 1);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_DELIVERED) == 0);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_CRITICAL) == 1);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_WORST) == DPGCERT_SEVERITY_CRITICAL);
  REQUIRE_OK(dpgcert_check_result_event(r, 0, &e));
  CHECK(event_int(e, DPGCERT_EVENT_KIND) == DPGCERT_EVENT_KIND_EXPIRED);
  CHECK(event_int(e, DPGCERT_EVENT_STAGE_DAYS) == 0);
  CHECK(event_int(e, DPGCERT_EVENT_DAYS_LEFT) < 0);
  CHECK(calls.calls == 2);
  dpgcert_check_result_free(r);
  o.deliver = 1;
  REQUIRE_OK(dpgcert_store_check(&r, store, TEST_TIME + 3 * 365 * DAY + 60, &o, on_event, &calls));
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_EMITTED) == 0);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_DELIVERED) == 1);
  CHECK(calls.calls == 3 && calls.last_kind == DPGCERT_EVENT_KIND_EXPIRED);
  dpgcert_check_result_free(r);

  free(fp);
  free(root);
  dpgcert_certificate_free(renewal);
  dpgcert_store_free(store);
  remove_scratch(&s);
}

static void test_errors(void) {
  scratch s = make_scratch("dpgcert-c-check");
  uint8_t *root = NULL;
  size_t root_len = 0;
  dpgcert_store *store = tracked_store(&s, &root, &root_len);
  dpgcert_check_options o = DPGCERT_CHECK_OPTIONS_INIT;
  dpgcert_check_result *r = (dpgcert_check_result *)&r;
  const dpgcert_event *e = (const dpgcert_event *)&e;
  seen calls = {0, 0, -1, ""};
  int64_t v = 0;
  char small[8];
  size_t len = sizeof small;

  /* Sinks: a second one of the same name, a bad name, NULL arguments. */
  CHECK_RC(dpgcert_store_add_callback_sink(store, SINK), DPGCERT_E_CONFLICT);
  CHECK_ERROR_MENTIONS("dpgcert_store_add_callback_sink");
  CHECK_RC(dpgcert_store_add_callback_sink(store, "no spaces allowed"), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_store_add_callback_sink(store, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_store_add_callback_sink(NULL, SINK), DPGCERT_E_NULL_ARGUMENT);

  /* A callback needs its sink's name, a name needs a callback, the name must be a callback sink. */
  CHECK_RC(dpgcert_store_check(&r, store, TEST_TIME, &o, on_event, &calls), DPGCERT_E_INVALID_ARGUMENT);
  CHECK(r == NULL);
  o.callback_sink = SINK;
  CHECK_RC(dpgcert_store_check(&r, store, TEST_TIME, &o, NULL, NULL), DPGCERT_E_INVALID_ARGUMENT);
  o.callback_sink = "misspelt";
  CHECK_RC(dpgcert_store_check(&r, store, TEST_TIME, &o, on_event, &calls), DPGCERT_E_NOT_FOUND);
  CHECK(strstr(dpgcert_error_last(), "misspelt") != NULL);
  CHECK(calls.calls == 0);
  o.callback_sink = SINK;
  o.version = 0;
  CHECK_RC(dpgcert_store_check(&r, store, TEST_TIME, &o, on_event, &calls), DPGCERT_E_VERSION);
  o.version = DPGCERT_CHECK_OPTIONS_VERSION;
  CHECK_RC(dpgcert_store_check(&r, NULL, TEST_TIME, &o, on_event, &calls), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_store_check(NULL, store, TEST_TIME, &o, on_event, &calls), DPGCERT_E_NULL_ARGUMENT);
  CHECK(calls.calls == 0); /* nothing ran */

  REQUIRE_OK(dpgcert_store_check(&r, store, TEST_TIME, &o, on_event, &calls));
  CHECK_RC(dpgcert_check_result_int(r, 0, &v), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_check_result_int(r, 99, &v), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_check_result_int(r, DPGCERT_CHECK_RESULT_EMITTED, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_check_result_int(NULL, DPGCERT_CHECK_RESULT_EMITTED, &v), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_check_result_event(r, 1, &e), DPGCERT_E_OUT_OF_RANGE);
  CHECK(e == NULL);
  CHECK_RC(dpgcert_check_result_event(r, 0, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_check_result_event(NULL, 0, &e), DPGCERT_E_NULL_ARGUMENT);
  REQUIRE_OK(dpgcert_check_result_event(r, 0, &e));
  CHECK_RC(dpgcert_event_int(e, DPGCERT_EVENT_ID, &v), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_event_int(e, 0, &v), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_event_int(e, DPGCERT_EVENT_KIND, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_event_int(NULL, DPGCERT_EVENT_KIND, &v), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_event_text(e, DPGCERT_EVENT_KIND, small, &len), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_event_text(e, 99, small, &len), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_event_text(NULL, DPGCERT_EVENT_ID, small, &len), DPGCERT_E_NULL_ARGUMENT);
  dpgcert_check_result_free(r);
  dpgcert_check_result_free(NULL);
  free(root);
  dpgcert_store_free(store);
  remove_scratch(&s);
}

static void test_exclusive_and_min_interval(void) {
  scratch s = make_scratch("dpgcert-c-check");
  uint8_t *root = NULL;
  size_t root_len = 0;
  dpgcert_store *store = tracked_store(&s, &root, &root_len);
  dpgcert_check_options o = DPGCERT_CHECK_OPTIONS_INIT;
  dpgcert_check_result *r = NULL;
  char *reason = NULL;
  char small[8];
  size_t len = sizeof small;

  /* The first check runs (the lock is free, no check has run before). */
  o.exclusive = 1;
  o.min_interval = 3600;
  REQUIRE_OK(dpgcert_store_check(&r, store, TEST_TIME, &o, NULL, NULL));
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_SKIPPED) == 0);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_EMITTED) == 1);
  CHECK_RC(dpgcert_check_result_skip_reason(r, small, &len), DPGCERT_E_NOT_FOUND);
  dpgcert_check_result_free(r);
  /* It ended just now (the wall clock): the next, whatever its time, waits an hour. */
  REQUIRE_OK(dpgcert_store_check(&r, store, TEST_TIME + 30 * DAY, &o, NULL, NULL));
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_SKIPPED) == 1);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_EMITTED) == 0);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_EVALUATED) == 0);
  GET_TEXT(reason, dpgcert_check_result_skip_reason(r, buf, lenp));
  CHECK(reason != NULL && strncmp(reason, "the last check ended at ", 24) == 0);
  CHECK(reason != NULL && strstr(reason, "the minimum interval is 3600 s") != NULL);
  free(reason);
  CHECK_OUT_TEXT(dpgcert_check_result_skip_reason(r, buf, lenp));
  CHECK_RC(dpgcert_check_result_skip_reason(NULL, small, &len), DPGCERT_E_NULL_ARGUMENT);
  dpgcert_check_result_free(r);
  /* A version 1 caller has neither field: the rule does not apply. */
  o.version = 1;
  REQUIRE_OK(dpgcert_store_check(&r, store, TEST_TIME + 30 * DAY, &o, NULL, NULL));
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_SKIPPED) == 0);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_EMITTED) == 1); /* expired by then */
  dpgcert_check_result_free(r);
  o.version = DPGCERT_CHECK_OPTIONS_VERSION;
  o.min_interval = -1;
  CHECK_RC(dpgcert_store_check(&r, store, TEST_TIME, &o, NULL, NULL), DPGCERT_E_INVALID_ARGUMENT);
  CHECK(r == NULL);
  /* Version 3: the revocation refresh. Not asked for: it does not run, and says so. (Running it
     here would ask the synthetic PKI's URLs, which lie beyond 127.0.0.1: the C++ tests run it
     against local servers.) */
  o.min_interval = 0;
  o.exclusive = 0;
  REQUIRE_OK(dpgcert_store_check(&r, store, TEST_TIME + 40 * DAY, &o, NULL, NULL));
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_REVOCATION_RAN) == 0);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_REVOCATION_CHECKED) == 0);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_REVOCATION_REVOKED) == 0);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_REVOCATION_PROBLEMS) == 0);
  {
    char *json = NULL;
    GET_TEXT(json, dpgcert_check_result_revocation_json(r, buf, lenp));
    CHECK(json != NULL && strstr(json, "\"ran\":false") != NULL);
    free(json);
  }
  CHECK_RC(dpgcert_check_result_revocation_json(NULL, small, &len), DPGCERT_E_NULL_ARGUMENT);
  dpgcert_check_result_free(r);
  /* Bad refresh options are refused before anything is asked. */
  o.refresh_revocation = 1;
  o.revocation_interval = -5;
  CHECK_RC(dpgcert_store_check(&r, store, TEST_TIME, &o, NULL, NULL), DPGCERT_E_INVALID_ARGUMENT);
  o.revocation_interval = 0;
  o.revocation_trust = (const uint8_t *)"junk";
  o.revocation_trust_len = 4;
  CHECK_RC(dpgcert_store_check(&r, store, TEST_TIME, &o, NULL, NULL), DPGCERT_E_MALFORMED);
  CHECK(r == NULL);
  /* The store's interval: at least a minute; 0 clears it. */
  CHECK_RC(dpgcert_store_set_revocation_refresh(store, 5), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_store_set_revocation_refresh(store, -1), DPGCERT_E_INVALID_ARGUMENT);
  REQUIRE_OK(dpgcert_store_set_revocation_refresh(store, 3600));
  REQUIRE_OK(dpgcert_store_set_revocation_refresh(store, 0));
  CHECK_RC(dpgcert_store_set_revocation_refresh(NULL, 0), DPGCERT_E_NULL_ARGUMENT);
  free(root);
  dpgcert_store_free(store);
  remove_scratch(&s);
}

/* With no sink the events wait; a sink of any kind added with the backlog receives them. */
static void test_backlog_waits_for_a_sink(void) {
  scratch s = make_scratch("dpgcert-c-backlog");
  dpgcert_store_options so = DPGCERT_STORE_OPTIONS_INIT;
  dpgcert_store *store = NULL;
  dpgcert_check_result *r = NULL;
  size_t root_len = 0, queued = 99;
  uint8_t *root = read_test_file("oces2-prod/root.crt.pem", &root_len);
  char log[320];
  const char *flags[] = {"jsonl"};
  const char *values[] = {log};
  const char *bad_flags[] = {"no-such-option"};
  FILE *f = NULL;
  int lines = 0, c = 0;
  int64_t days = 0;

  snprintf(log, sizeof log, "%s/events.jsonl", s.dir);
  so.key_file = s.key;
  so.now = TEST_TIME;
  REQUIRE_OK(dpgcert_store_create(&store, s.db, &so));
  import_file(store, "odd/foces-expiring-soon.p12", MAILBOX, root, root_len);
  REQUIRE_OK(dpgcert_store_check(&r, store, TEST_TIME, NULL, NULL, NULL));
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_EMITTED) == 1);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_NO_SINK) == 1);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_BACKLOG) == 1);
  dpgcert_check_result_free(r);

  CHECK_RC(dpgcert_store_add_sink(store, "log", "pager", NULL, NULL, 0, 1, NULL), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_store_add_sink(store, "log", "jsonl", bad_flags, values, 1, 1, NULL), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_store_add_sink(store, "log", "jsonl", NULL, values, 1, 1, NULL), DPGCERT_E_NULL_ARGUMENT);
  CHECK_RC(dpgcert_store_add_sink(NULL, "log", "jsonl", flags, values, 1, 1, NULL), DPGCERT_E_NULL_ARGUMENT);
  REQUIRE_OK(dpgcert_store_add_sink(store, "log", "jsonl", flags, values, 1, 1, &queued));
  CHECK(queued == 1);
  CHECK_RC(dpgcert_store_add_sink(store, "log", "jsonl", flags, values, 1, 1, NULL), DPGCERT_E_CONFLICT);

  REQUIRE_OK(dpgcert_store_check(&r, store, TEST_TIME + 60, NULL, NULL, NULL));
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_NO_SINK) == 0);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_BACKLOG) == 0);
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_DELIVERED) == 1);
  dpgcert_check_result_free(r);
  f = fopen(log, "r");
  REQUIRE(f != NULL);
  while ((c = fgetc(f)) != EOF) lines += c == '\n';
  fclose(f);
  CHECK(lines == 1);
  remove(log);

  /* Retention: a year unless set; out of range refused; past it, the delivered event goes. */
  REQUIRE_OK(dpgcert_store_outbox_retention(store, &days));
  CHECK(days == 365);
  CHECK_RC(dpgcert_store_set_outbox_retention(store, -1, NULL), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_store_set_outbox_retention(store, 36526, NULL), DPGCERT_E_INVALID_ARGUMENT);
  CHECK_RC(dpgcert_store_outbox_retention(store, NULL), DPGCERT_E_NULL_ARGUMENT);
  REQUIRE_OK(dpgcert_store_set_outbox_retention(store, 0, "ops"));
  REQUIRE_OK(dpgcert_store_outbox_retention(store, &days));
  CHECK(days == 0);
  REQUIRE_OK(dpgcert_store_check(&r, store, TEST_TIME + 31 * 86400, NULL, NULL, NULL));
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_PRUNED) == 0);
  dpgcert_check_result_free(r);
  REQUIRE_OK(dpgcert_store_set_outbox_retention(store, 30, "ops"));
  REQUIRE_OK(dpgcert_store_outbox_retention(store, &days));
  CHECK(days == 30);
  REQUIRE_OK(dpgcert_store_check(&r, store, TEST_TIME + 31 * 86400, NULL, NULL, NULL));
  CHECK(result_int(r, DPGCERT_CHECK_RESULT_PRUNED) == 1);
  dpgcert_check_result_free(r);
  remove(log);

  free(root);
  dpgcert_store_free(store);
  remove_scratch(&s);
}

static const c_test_case cases[] = {
    {"threshold_events_reach_the_callback", test_threshold_events_reach_the_callback},
    {"refused_events_come_back", test_refused_events_come_back},
    {"renewal_expiry_and_record_only", test_renewal_expiry_and_record_only},
    {"errors", test_errors},
    {"exclusive_and_min_interval", test_exclusive_and_min_interval},
    {"backlog_waits_for_a_sink", test_backlog_waits_for_a_sink},
};
C_TEST_MAIN(cases)
