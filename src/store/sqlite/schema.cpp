// The store's schema, migration by migration. All times are integer Unix seconds (UTC).
// See docs/store.md for the model and docs/lifecycle.md for the tables of migration 3.
#include "store/sqlite/schema.hpp"

namespace dpgcert::sqlite {
namespace {

constexpr std::string_view kV1 = R"sql(
CREATE TABLE schema_version (
  version     INTEGER PRIMARY KEY,
  applied_at  INTEGER NOT NULL,
  description TEXT NOT NULL
);

-- What the store remembers about its master key: the source, never the key (one row).
CREATE TABLE master_key (
  id                 INTEGER PRIMARY KEY CHECK (id = 1),
  kind               TEXT NOT NULL CHECK (kind IN ('key_file', 'passphrase')),
  key_file           TEXT,
  argon2_memory_kib  INTEGER,
  argon2_iterations  INTEGER,
  argon2_parallelism INTEGER,
  salt               BLOB,
  check_value        BLOB NOT NULL,
  created_at         INTEGER NOT NULL,
  rotated_at         INTEGER
);

CREATE TABLE organisations (
  id         INTEGER PRIMARY KEY,
  cvr        TEXT NOT NULL UNIQUE,
  name       TEXT NOT NULL,
  notes      TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE contacts (
  id              INTEGER PRIMARY KEY,
  organisation_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  position        INTEGER NOT NULL,
  name            TEXT NOT NULL,
  email           TEXT NOT NULL,
  role            TEXT NOT NULL DEFAULT ''
);
CREATE INDEX contacts_organisation ON contacts(organisation_id, position);

CREATE TABLE mailboxes (
  id              INTEGER PRIMARY KEY,
  address         TEXT NOT NULL UNIQUE,
  ad_group        TEXT NOT NULL DEFAULT '',
  organisation_id INTEGER NOT NULL REFERENCES organisations(id),
  created_at      INTEGER NOT NULL,
  created_by      TEXT NOT NULL
);
CREATE INDEX mailboxes_organisation ON mailboxes(organisation_id);

CREATE TABLE certificates (
  id                 INTEGER PRIMARY KEY,
  fingerprint        TEXT NOT NULL UNIQUE,
  organisation_id    INTEGER REFERENCES organisations(id),
  mailbox_id         INTEGER REFERENCES mailboxes(id),
  status             TEXT NOT NULL CHECK (status IN ('active', 'superseded', 'revoked', 'retired')),
  status_changed_at  INTEGER NOT NULL,
  superseded_by      INTEGER REFERENCES certificates(id),
  lineage_id         INTEGER NOT NULL,
  generation         TEXT NOT NULL,
  type               TEXT NOT NULL,
  environment        TEXT NOT NULL,
  cvr                TEXT,
  oces_id_kind       TEXT,
  oces_id            TEXT,
  common_name        TEXT,
  organisation_name  TEXT,
  email              TEXT,
  subject            TEXT NOT NULL,
  issuer             TEXT NOT NULL,
  serial             TEXT NOT NULL,
  not_before         INTEGER NOT NULL,
  not_after          INTEGER NOT NULL,
  key_algorithm      TEXT NOT NULL,
  key_bits           INTEGER NOT NULL,
  pkcs12_legacy      INTEGER NOT NULL,
  validation_verdict TEXT NOT NULL,
  forced             INTEGER NOT NULL,
  source             TEXT NOT NULL,
  added_at           INTEGER NOT NULL,
  added_by           TEXT NOT NULL
);
-- "Expiring before T" (active certificates) is a range of this partial index on not_after; the
-- fingerprint completes the order. It also carries every column a listing shows
-- (CertificateSummary), so the renewal query reads consecutive index pages and never the table:
-- over a million records, the table rows of the 2% expiring would each sit on a different page.
-- Partial: a superseded or retired certificate leaves it (one page) and enters no other.
-- Listings of other statuses scan the table; they are rare and ask for everything anyway.
-- Every index costs each import a page write, so there are only those a query needs.
CREATE INDEX certificates_active_expiry ON certificates(not_after, fingerprint, status, not_before,
  organisation_id, mailbox_id, cvr, generation, type, environment, oces_id, common_name)
  WHERE status = 'active';
CREATE INDEX certificates_organisation ON certificates(organisation_id, not_after);
CREATE INDEX certificates_mailbox ON certificates(mailbox_id);
-- Lineage look-ups: same CVR and OCES2 UID/FID; same OCES3 subject.
CREATE INDEX certificates_oces_id ON certificates(cvr, oces_id_kind, oces_id);
CREATE INDEX certificates_oces3_subject ON certificates(subject) WHERE generation = 'oces3';
CREATE INDEX certificates_superseded_by ON certificates(superseded_by) WHERE superseded_by IS NOT NULL;

-- The bulky documents of a certificate, apart so that the rows queries walk stay small (a dozen
-- per page): the DER, the PKCS#12 profile and the validation report (compact JSON).
CREATE TABLE certificate_documents (
  certificate_id    INTEGER PRIMARY KEY REFERENCES certificates(id) ON DELETE CASCADE,
  der               BLOB NOT NULL,
  pkcs12_profile    TEXT NOT NULL,
  validation_report TEXT NOT NULL
);

-- The sealed secret of a certificate: its PKCS#12 file and password, each under its own data key.
CREATE TABLE secrets (
  certificate_id INTEGER PRIMARY KEY REFERENCES certificates(id) ON DELETE CASCADE,
  pkcs12_key     BLOB NOT NULL,
  pkcs12         BLOB NOT NULL,
  password_key   BLOB NOT NULL,
  password       BLOB NOT NULL
);

-- Ids only grow: rows are never deleted (migration 2 makes that a rule of the database).
CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY,
  at          INTEGER NOT NULL,
  actor       TEXT NOT NULL,
  action      TEXT NOT NULL,
  object_kind TEXT NOT NULL,
  object_key  TEXT NOT NULL,
  details     TEXT NOT NULL DEFAULT '{}'
);
)sql";

// The audit log becomes append-only in the database itself.
constexpr std::string_view kV2 = R"sql(
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only');
END;
)sql";

// The lifecycle layer: renewal policies, per-certificate stage bookkeeping, status changes waiting
// to be announced, the outbox (events and one delivery per sink), sinks, counters. In tables of
// their own, keyed by the certificate's id: the certificate rows and their indexes stay as they
// are, and every statement is safe to run twice (IF NOT EXISTS, OR IGNORE).
constexpr std::string_view kV3 = R"sql(
-- Thresholds as "90,60,30,14,7,1,0". organisation_id NULL: the store's default (at most one).
CREATE TABLE IF NOT EXISTS renewal_policies (
  id              INTEGER PRIMARY KEY,
  organisation_id INTEGER REFERENCES organisations(id),
  thresholds      TEXT NOT NULL,
  updated_at      INTEGER NOT NULL,
  updated_by      TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS renewal_policies_scope ON renewal_policies(ifnull(organisation_id, 0));

-- One row per certificate. next_due_at: when the next threshold is crossed (0: evaluate at the
-- next check; NULL: nothing left to announce, or not active). "Expiry is a query, not a scan": a
-- check reads the range next_due_at <= now of the partial index, which is empty on most days.
-- severity (0 none, 1 warning, 2 critical) of the recorded stage, for monitoring exit codes.
CREATE TABLE IF NOT EXISTS lifecycle (
  certificate_id      INTEGER PRIMARY KEY REFERENCES certificates(id) ON DELETE CASCADE,
  effective_not_after INTEGER NOT NULL,
  stage               INTEGER,
  stage_at            INTEGER,
  severity            INTEGER NOT NULL DEFAULT 0,
  next_due_at         INTEGER
);
CREATE INDEX IF NOT EXISTS lifecycle_due ON lifecycle(next_due_at) WHERE next_due_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS lifecycle_severity ON lifecycle(severity) WHERE severity > 0;

-- Status changes made by imports and set_status, waiting for a check to announce them.
CREATE TABLE IF NOT EXISTS lifecycle_pending (
  certificate_id INTEGER NOT NULL REFERENCES certificates(id) ON DELETE CASCADE,
  kind           TEXT NOT NULL CHECK (kind IN ('renewed', 'revoked', 'validation_failed')),
  since          INTEGER NOT NULL,
  PRIMARY KEY (certificate_id, kind)
) WITHOUT ROWID;

-- The outbox. seq orders emission; id is the idempotency key (one event per id, ever).
CREATE TABLE IF NOT EXISTS events (
  seq            INTEGER PRIMARY KEY,
  id             TEXT NOT NULL UNIQUE,
  kind           TEXT NOT NULL,
  stage_days     INTEGER,
  certificate_id INTEGER NOT NULL REFERENCES certificates(id),
  created_at     INTEGER NOT NULL,
  payload        TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS sinks (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  kind       TEXT NOT NULL CHECK (kind IN ('callback', 'jsonl', 'command')),
  settings   TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL
);

-- One delivery per event and sink configured when the event was emitted.
CREATE TABLE IF NOT EXISTS deliveries (
  event_seq       INTEGER NOT NULL REFERENCES events(seq) ON DELETE CASCADE,
  sink_id         INTEGER NOT NULL REFERENCES sinks(id) ON DELETE CASCADE,
  state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  last_attempt_at INTEGER,
  last_error      TEXT,
  delivered_at    INTEGER,
  PRIMARY KEY (event_seq, sink_id)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS deliveries_sink ON deliveries(sink_id, state);

-- Counters that only grow: metric 'emitted' by event kind, 'delivered' and 'failed' by sink.
CREATE TABLE IF NOT EXISTS lifecycle_counters (
  metric TEXT NOT NULL,
  label  TEXT NOT NULL,
  value  INTEGER NOT NULL,
  PRIMARY KEY (metric, label)
) WITHOUT ROWID;

-- Existing certificates: the leaf's notAfter is all that is known (the chain was not kept);
-- active ones are evaluated at the next check. An active certificate forced in past a failing
-- validation is announced once. Older status changes are history and are not announced.
INSERT OR IGNORE INTO lifecycle (certificate_id, effective_not_after, next_due_at)
  SELECT id, not_after, CASE WHEN status = 'active' THEN 0 END FROM certificates;
INSERT OR IGNORE INTO lifecycle_pending (certificate_id, kind, since)
  SELECT id, 'validation_failed', status_changed_at FROM certificates
  WHERE status = 'active' AND forced = 1 AND validation_verdict = 'fail';
)sql";

// Extension points with string kinds. The master key is described by its key wrapper's kind and
// parameters (a JSON object) instead of fixed columns, and neither it nor a sink's kind is limited
// by a CHECK, so a kind added later (pkcs11, webhook) can be stored. SQLite cannot drop a CHECK:
// both tables are rebuilt (deliveries too, as it refers to sinks; with foreign keys on, dropping
// sinks first would cascade into it). Old rows keep their ids; the old key columns become params.
constexpr std::string_view kV4 = R"sql(
CREATE TABLE master_key_v4 (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  kind        TEXT NOT NULL,
  params      TEXT NOT NULL DEFAULT '{}',
  check_value BLOB NOT NULL,
  created_at  INTEGER NOT NULL,
  rotated_at  INTEGER
);
INSERT INTO master_key_v4 (id, kind, params, check_value, created_at, rotated_at)
  SELECT id, kind,
         CASE kind
           WHEN 'key_file' THEN json_object('path', key_file)
           ELSE json_object('algorithm', 'argon2id', 'memory_kib', argon2_memory_kib,
                            'iterations', argon2_iterations, 'parallelism', argon2_parallelism,
                            'salt', lower(hex(salt)))
         END,
         check_value, created_at, rotated_at
  FROM master_key;
DROP TABLE master_key;
ALTER TABLE master_key_v4 RENAME TO master_key;

CREATE TABLE sinks_v4 (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  kind       TEXT NOT NULL,
  settings   TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL
);
INSERT INTO sinks_v4 (id, name, kind, settings, created_at, created_by)
  SELECT id, name, kind, settings, created_at, created_by FROM sinks;
CREATE TABLE deliveries_v4 (
  event_seq       INTEGER NOT NULL REFERENCES events(seq) ON DELETE CASCADE,
  sink_id         INTEGER NOT NULL REFERENCES sinks_v4(id) ON DELETE CASCADE,
  state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  last_attempt_at INTEGER,
  last_error      TEXT,
  delivered_at    INTEGER,
  PRIMARY KEY (event_seq, sink_id)
);
INSERT INTO deliveries_v4 (event_seq, sink_id, state, attempts, next_attempt_at, last_attempt_at, last_error,
                           delivered_at)
  SELECT event_seq, sink_id, state, attempts, next_attempt_at, last_attempt_at, last_error, delivered_at
  FROM deliveries;
DROP TABLE deliveries;
DROP TABLE sinks;
ALTER TABLE sinks_v4 RENAME TO sinks;
ALTER TABLE deliveries_v4 RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_sink ON deliveries(sink_id, state);
)sql";

// Everyday administration: store-wide settings (the environment policy import enforces), and the
// audit log's second time: `at` is the wall clock's from now on, `command_time` the time a command
// ran *for* when that was not the wall clock (`dpgcert --now`, what-if runs). Earlier lines keep
// their `at` (the store clock's time then) and get no command_time.
constexpr std::string_view kV5 = R"sql(
CREATE TABLE settings (
  name       TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
ALTER TABLE audit_log ADD COLUMN command_time INTEGER;
)sql";

// The outbox's due index in the order deliveries are claimed (due time, then event), as on
// PostgreSQL: claiming a batch walks the index instead of sorting every pending delivery. Same
// version as PostgreSQL's migration 6 (its expiry index covering the record id; SQLite's covers
// it as the rowid already).
constexpr std::string_view kV6 = R"sql(
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries(next_attempt_at, event_seq) WHERE state = 'pending';
)sql";

// Keys on PKCS#11 tokens (docs/tokens.md): where `token import` put a certificate's private key,
// public key and certificate. URIs only (the PIN is never stored). Removed with the certificate.
constexpr std::string_view kV7 = R"sql(
CREATE TABLE token_keys (
  certificate_id  INTEGER PRIMARY KEY REFERENCES certificates(id) ON DELETE CASCADE,
  token_uri       TEXT NOT NULL,
  key_uri         TEXT NOT NULL,
  certificate_uri TEXT NOT NULL,
  object_id       TEXT NOT NULL,
  imported_at     INTEGER NOT NULL,
  imported_by     TEXT NOT NULL
);
)sql";

// The organisation's language ("da" or "en"): what the smtp sink writes to its contacts in. The
// same version on PostgreSQL.
constexpr std::string_view kV8 = R"sql(
ALTER TABLE organisations ADD COLUMN language TEXT NOT NULL DEFAULT 'da' CHECK (language IN ('da', 'en'));
)sql";

// Migration 9: CRLs fetched online, kept with their nextUpdate and
// the server's validators so a stale one is refetched, conditionally (ETag / Last-Modified).
// next_update 0: the CRL has none.
// IF NOT EXISTS: safe to run twice, as the tests that rewind schema_version do.
constexpr std::string_view kV9 = R"sql(
CREATE TABLE IF NOT EXISTS revocation_crls (
  url                TEXT PRIMARY KEY,
  issuer_fingerprint TEXT NOT NULL,
  der                BLOB NOT NULL,
  this_update        INTEGER NOT NULL,
  next_update        INTEGER NOT NULL,
  etag               TEXT NOT NULL DEFAULT '',
  last_modified      TEXT NOT NULL DEFAULT '',
  fetched_at         INTEGER NOT NULL,
  checked_at         INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

constexpr Migration kMigrations[] = {
    {1, "organisations, mailboxes, certificates, sealed secrets, audit log", kV1},
    {2, "append-only audit log (triggers)", kV2},
    {3, "lifecycle: renewal policies, stages, pending status changes, outbox, sinks, counters", kV3},
    {4, "key wrappers and sinks by kind name: master key as kind and params, no CHECK on kinds", kV4},
    {5, "settings (environment policy); audit lines with the wall-clock time and the command's time", kV5},
    {6, "the outbox's due index in claiming order (due time, event)", kV6},
    {7, "keys on PKCS#11 tokens: where a certificate's key was imported (token_keys)", kV7},
    {8, "organisations have a language (da, en) for the mail sent to their contacts", kV8},
    {9, "CRLs fetched online, with nextUpdate and the server's ETag / Last-Modified", kV9},
};

}  // namespace

std::span<const Migration> migrations() noexcept { return kMigrations; }

int latest_schema_version() noexcept { return kMigrations[std::size(kMigrations) - 1].version; }

}  // namespace dpgcert::sqlite
