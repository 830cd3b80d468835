// Change notifications of a store: a gateway learns that the current bundle of one of its
// mailboxes may have changed without polling. The PostgreSQL backend sends one notification per
// committed change (LISTEN/NOTIFY, ids only, never secrets); Store::listen() opens a listener
// on a connection of its own. See docs/store.md.
#pragma once

#include <dpgcert/export.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace dpgcert {

/// What kind of change a notification reports.
enum class ChangeKind {
  certificate_imported,  ///< A certificate was imported (active, or superseded when it arrived late).
  certificate_status,    ///< A certificate's status changed (superseded by an import, retired, revoked).
  mailbox_moved,         ///< A mailbox moved to another organisation, with its certificates.
  mailbox_removed,       ///< A mailbox was removed; its certificates are attached to no mailbox any more.
  /// Changes may have been missed (the listener's connection was lost and is back, or the whole
  /// store was replaced): reload everything the caller keeps.
  reload,
};

/// "certificate.import", "certificate.status", "mailbox.move", "mailbox.remove", "reload".
[[nodiscard]] DPGCERT_API std::string_view to_string(ChangeKind kind) noexcept;
/// The inverse of to_string(); std::nullopt for other text.
[[nodiscard]] DPGCERT_API std::optional<ChangeKind> parse_change_kind(std::string_view text) noexcept;

/// One committed change: identifiers only (no secret, no certificate content). A value.
struct Change {
  ChangeKind kind = ChangeKind::reload;
  /// The mailbox concerned (lowercase); absent for a certificate attached to no mailbox, and for reload.
  std::optional<std::string> mailbox;
  /// The certificate concerned (SHA-256, lowercase hex); absent for mailbox changes and reload.
  std::optional<std::string> fingerprint;
  bool operator==(const Change&) const = default;
};

namespace store {
class ChangeFeed;
}  // namespace store

/// Receives the changes committed to a store by any handle, process or node, from the moment it
/// was opened (Store::listen()). It holds a database connection of its own and does not need the
/// Store it came from to stay open.
///
/// A notification is sent inside the writing transaction and delivered only when it commits: a
/// rolled-back change is never reported. Notifications are not stored: after its connection was
/// lost the listener connects again and reports one ChangeKind::reload before anything else, and
/// the caller reloads what it keeps. Open the listener before the first full load, so that no
/// change falls between the two.
///
/// Thread safety: one thread at a time (move it between threads freely).
class DPGCERT_API ChangeListener final {
 public:
  /// Made by Store::listen().
  explicit ChangeListener(std::unique_ptr<store::ChangeFeed> feed) noexcept;
  ~ChangeListener();
  ChangeListener(ChangeListener&&) noexcept;
  ChangeListener& operator=(ChangeListener&&) noexcept;
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

  /// Waits up to `timeout` (0: does not wait) for the next change; std::nullopt when none came.
  /// Throws Error(io) when the connection is lost and cannot be made again within `timeout`; the
  /// listener stays usable, and the call that connects again returns ChangeKind::reload.
  [[nodiscard]] std::optional<Change> next(std::chrono::milliseconds timeout);

  /// The callback form of next(): waits up to `timeout` for a change, then hands it and every
  /// change already received to `on_change`, stopping early when it returns false (the changes
  /// not handed over stay for the next call). Returns how many were handed over. Errors as
  /// next(); an exception from `on_change` passes through (that change counts as handed over).
  std::size_t poll(std::chrono::milliseconds timeout, const std::function<bool(const Change&)>& on_change);

 private:
  std::unique_ptr<store::ChangeFeed> feed_;
};

}  // namespace dpgcert
