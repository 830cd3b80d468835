// Change notifications on PostgreSQL: NOTIFY from inside the writing transaction (pg_notify, so
// the server delivers it only when the transaction commits) with a JSON payload of identifiers
// only, and the listener's feed: a connection of its own that LISTENs, waits on its socket, and
// connects again after a loss, reporting a reload first.
#include "store/postgresql/pg_backend.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <thread>

#include <poll.h>

namespace dpgcert::postgresql {

// ---- sending --------------------------------------------------------------------------------

// The payload is built by the server from the rows (json_build_object escapes): the version of
// the payload's form, the kind, the mailbox's address and the certificate's fingerprint. Never
// anything from the secrets or documents tables.

std::string certificate_notify_sql(int channel, int kind, std::string_view rows) {
  return "SELECT pg_notify($" + std::to_string(channel) + ", json_build_object('v', 1, 'kind', $" +
         std::to_string(kind) + "::text, 'mailbox', m.address, 'fingerprint', c.fingerprint)::text) FROM " +
         std::string(rows) + " c LEFT JOIN mailboxes m ON m.id = c.mailbox_id";
}

void PgTransaction::notify_certificate(ChangeKind kind, std::int64_t id) {
  w(certificate_notify_sql(1, 2, "certificates") + " WHERE c.id = $3", kChangeChannel, to_string(kind), id);
}

void PgTransaction::notify_mailbox(ChangeKind kind, std::int64_t id) {
  w("SELECT pg_notify($1, json_build_object('v', 1, 'kind', $2::text, 'mailbox', address)::text) "
    "FROM mailboxes WHERE id = $3",
    kChangeChannel, to_string(kind), id);
}

void PgTransaction::notify_reload() {
  w("SELECT pg_notify($1, json_build_object('v', 1, 'kind', $2::text)::text)", kChangeChannel,
    to_string(ChangeKind::reload));
}

// ---- receiving ------------------------------------------------------------------------------

namespace {

using SteadyClock = std::chrono::steady_clock;

/// A payload as the functions above write it; std::nullopt for anything else (another writer on
/// the channel, a newer form): such a notification is skipped.
std::optional<Change> parse_payload(std::string_view payload) {
  const nlohmann::json j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  const auto kind = j.find("kind");
  if (kind == j.end() || !kind->is_string()) return std::nullopt;
  const auto parsed = parse_change_kind(kind->get<std::string>());
  if (!parsed) return std::nullopt;
  Change c;
  c.kind = *parsed;
  if (const auto m = j.find("mailbox"); m != j.end() && m->is_string()) c.mailbox = m->get<std::string>();
  if (const auto f = j.find("fingerprint"); f != j.end() && f->is_string()) c.fingerprint = f->get<std::string>();
  return c;
}

/// A feed on a connection of its own, LISTENing on kChangeChannel.
class PgChangeFeed final : public store::ChangeFeed {
 public:
  PgChangeFeed(std::string conninfo, std::string shown) : conninfo_(std::move(conninfo)), shown_(std::move(shown)) {
    connect();  // the first connection's failure is the caller's Error(io)
  }

  std::optional<Change> next(std::chrono::milliseconds timeout) override {
    const auto deadline = SteadyClock::now() + timeout;
    for (;;) {
      if (!db_) {
        try {
          connect();
          return Change{};  // back after a loss: whatever was sent meanwhile is gone
        } catch (const Error& e) {
          const auto now = SteadyClock::now();
          if (now >= deadline) {
            throw Error(ErrorCode::io, "store: the change listener lost its connection to '" + shown_ +
                                           "' and cannot connect again yet: " + e.what());
          }
          std::this_thread::sleep_for(std::min<SteadyClock::duration>(deadline - now, std::chrono::milliseconds(100)));
          continue;
        }
      }
      try {
        while (auto n = db_->next_notification()) {
          if (n->first != kChangeChannel) continue;
          if (auto c = parse_payload(n->second)) return c;
        }
        if (!db_->ok()) throw ConnectionLost("the connection broke");
      } catch (const ConnectionLost&) {
        db_.reset();
        continue;
      }
      const auto now = SteadyClock::now();
      if (now >= deadline) return std::nullopt;
      const auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
      pollfd p{db_->socket(), POLLIN, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(wait.count(), 60'000)));
      if (rc < 0 && errno != EINTR) throw Error(ErrorCode::io, "store: waiting for change notifications failed");
    }
  }

 private:
  void connect() {
    auto db = std::make_unique<Connection>(conninfo_, shown_);
    try {
      std::string listen = "LISTEN ";
      listen.append(kChangeChannel);
      (void)db->exec(listen);
    } catch (const ConnectionLost& e) {
      throw Error(ErrorCode::io, "store: cannot listen on '" + shown_ + "': " + e.what());
    }
    db_ = std::move(db);
  }

  std::string conninfo_;
  std::string shown_;
  std::unique_ptr<Connection> db_;
};

}  // namespace

std::unique_ptr<store::ChangeFeed> PgBackend::listen() const {
  if (!db_) throw Error(ErrorCode::internal, "store: the backend was abandoned");
  return std::make_unique<PgChangeFeed>(conninfo_, shown_);
}

}  // namespace dpgcert::postgresql
