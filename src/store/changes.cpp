// Change notifications: the names of the change kinds, ChangeListener over a backend's feed,
// Store::listen(), and the default of backends that send none (SQLite).
#include "store/backend.hpp"
#include "store/store_impl.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/store_changes.hpp>

#include <mutex>

namespace dpgcert {

std::string_view to_string(ChangeKind kind) noexcept {
  switch (kind) {
    case ChangeKind::certificate_imported: return "certificate.import";
    case ChangeKind::certificate_status: return "certificate.status";
    case ChangeKind::mailbox_moved: return "mailbox.move";
    case ChangeKind::mailbox_removed: return "mailbox.remove";
    case ChangeKind::reload: return "reload";
  }
  return "reload";
}

std::optional<ChangeKind> parse_change_kind(std::string_view text) noexcept {
  for (ChangeKind k : {ChangeKind::certificate_imported, ChangeKind::certificate_status, ChangeKind::mailbox_moved,
                       ChangeKind::mailbox_removed, ChangeKind::reload}) {
    if (to_string(k) == text) return k;
  }
  return std::nullopt;
}

void store::no_change_notifications(std::string_view backend) {
  std::string m = "store: the ";
  m += backend;
  m += " backend sends no change notifications (only PostgreSQL does); read current_bundle() again instead";
  throw Error(ErrorCode::unsupported, m);
}

ChangeListener::ChangeListener(std::unique_ptr<store::ChangeFeed> feed) noexcept : feed_(std::move(feed)) {}
ChangeListener::~ChangeListener() = default;
ChangeListener::ChangeListener(ChangeListener&&) noexcept = default;
ChangeListener& ChangeListener::operator=(ChangeListener&&) noexcept = default;

std::optional<Change> ChangeListener::next(std::chrono::milliseconds timeout) {
  if (!feed_) throw Error(ErrorCode::invalid_argument, "store: the change listener was moved from");
  return feed_->next(timeout < std::chrono::milliseconds::zero() ? std::chrono::milliseconds::zero() : timeout);
}

std::size_t ChangeListener::poll(std::chrono::milliseconds timeout, const std::function<bool(const Change&)>& on_change) {
  std::size_t handed = 0;
  for (std::optional<Change> c = next(timeout); c; c = next(std::chrono::milliseconds::zero())) {
    ++handed;
    if (!on_change(*c)) break;
  }
  return handed;
}

ChangeListener Store::listen() const {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  return ChangeListener(s.backend->listen());
}

}  // namespace dpgcert
