/* Which active certificates in a store end within N days: the renewal question, as a gateway's
 * own scheduler (written in C) would ask it.
 *
 *   expiring_certificates STORE DAYS [--now UNIX-SECONDS]
 *
 * Prints one line per certificate: days left, end date, fingerprint, mailbox, common name. Exit
 * status 0 when none, 1 when some, 3 when the store could not be read, 64 usage. Reading needs no
 * master key. */
#define _POSIX_C_SOURCE 200809L
#include <dpgcert/dpgcert.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A text field into a fixed buffer; "-" when absent. */
static const char *field(const dpgcert_summary_list *list, size_t i, int which, char *buf, size_t size) {
  size_t len = size;
  if (dpgcert_summary_list_text(list, i, which, buf, &len) != DPGCERT_OK) return "-";
  return buf;
}

int main(int argc, char **argv) {
  dpgcert_store *store = NULL;
  dpgcert_summary_list *list = NULL;
  dpgcert_store_options options = DPGCERT_STORE_OPTIONS_INIT;
  int64_t now = (int64_t)time(NULL), days;
  size_t count = 0, i;

  if (argc != 3 && !(argc == 5 && strcmp(argv[3], "--now") == 0)) {
    fprintf(stderr, "usage: expiring_certificates STORE DAYS [--now UNIX-SECONDS]\n");
    return 64;
  }
  days = strtoll(argv[2], NULL, 10);
  if (argc == 5) now = strtoll(argv[4], NULL, 10);
  if (dpgcert_store_open(&store, argv[1], &options) != DPGCERT_OK) {
    fprintf(stderr, "expiring_certificates: %s\n", dpgcert_error_last());
    return 3;
  }
  {
    const dpgcert_query query = DPGCERT_QUERY_EXPIRING_BEFORE(now + days * 86400);
    if (dpgcert_store_query(&list, store, &query) != DPGCERT_OK ||
        dpgcert_summary_list_count(list, &count) != DPGCERT_OK) {
      fprintf(stderr, "expiring_certificates: %s\n", dpgcert_error_last());
      dpgcert_store_free(store);
      return 3;
    }
  }
  for (i = 0; i < count; ++i) {
    int64_t not_after = 0;
    char fingerprint[65], mailbox[256], name[256], date[32];
    time_t t;
    struct tm tm;
    dpgcert_summary_list_int(list, i, DPGCERT_SUMMARY_NOT_AFTER, &not_after);
    t = (time_t)not_after;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    /* Whole days left, rounded towards the past (negative once expired). */
    printf("%5lld  %s  %s  %s  %s\n",
           (long long)((not_after - now) >= 0 ? (not_after - now) / 86400 : -((now - not_after + 86399) / 86400)),
           date, field(list, i, DPGCERT_SUMMARY_FINGERPRINT, fingerprint, sizeof fingerprint),
           field(list, i, DPGCERT_SUMMARY_MAILBOX, mailbox, sizeof mailbox),
           field(list, i, DPGCERT_SUMMARY_COMMON_NAME, name, sizeof name));
  }
  dpgcert_summary_list_free(list);
  dpgcert_store_free(store);
  return count == 0 ? 0 : 1;
}
