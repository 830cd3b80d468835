// C API: change notifications of a store (conversion only; the store's listener does the work).
#include "c_api.hpp"

#include <chrono>

using namespace dpgcert;
using namespace dpgcert::capi;

namespace {

int kind_code(ChangeKind kind) noexcept {
  switch (kind) {
    case ChangeKind::certificate_imported: return DPGCERT_CHANGE_CERTIFICATE_IMPORTED;
    case ChangeKind::certificate_status: return DPGCERT_CHANGE_CERTIFICATE_STATUS;
    case ChangeKind::mailbox_moved: return DPGCERT_CHANGE_MAILBOX_MOVED;
    case ChangeKind::mailbox_removed: return DPGCERT_CHANGE_MAILBOX_REMOVED;
    case ChangeKind::reload: return DPGCERT_CHANGE_RELOAD;
  }
  return DPGCERT_CHANGE_RELOAD;
}

}  // namespace

extern "C" {

int dpgcert_store_listen(dpgcert_change_listener** out, const dpgcert_store* store) {
  return guarded(__func__, [&] {
    reset_out(out);
    require(store, "store");
    *out = new dpgcert_change_listener{store->store->listen()};
    return DPGCERT_OK;
  });
}

void dpgcert_change_listener_free(dpgcert_change_listener* listener) { delete listener; }

int dpgcert_change_listener_poll(dpgcert_change_listener* listener, int64_t timeout_ms,
                                 dpgcert_change_callback callback, void* payload, size_t* handed) {
  return guarded(__func__, [&] {
    require(listener, "listener");
    if (callback == nullptr) throw CallError(DPGCERT_E_NULL_ARGUMENT, "argument 'callback' is NULL");
    if (timeout_ms < 0) throw Error(ErrorCode::invalid_argument, "timeout_ms is negative");
    const std::size_t n = listener->listener.poll(std::chrono::milliseconds(timeout_ms), [&](const Change& c) {
      return callback(kind_code(c.kind), c.mailbox ? c.mailbox->c_str() : nullptr,
                      c.fingerprint ? c.fingerprint->c_str() : nullptr, payload) == 0;
    });
    if (handed != nullptr) *handed = n;
    return DPGCERT_OK;
  });
}

}  // extern "C"
