// C API: renewal tracking - a check over a store, its events, and an in-process callback sink.
#include "c_api.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>

using namespace dpgcert;
using namespace dpgcert::capi;

extern "C" {

int dpgcert_store_add_callback_sink(dpgcert_store* store, const char* name) {
  return guarded(__func__, [&] {
    require(store, "store");
    (void)Lifecycle(*store->store).add_sink(callback_sink(std::string(in_text(name, "name"))));
    return DPGCERT_OK;
  });
}

int dpgcert_store_add_sink(dpgcert_store* store, const char* name, const char* kind, const char* const* flags,
                           const char* const* values, size_t count, int backlog, size_t* queued) {
  return guarded(__func__, [&] {
    require(store, "store");
    if (count > 0) {
      require(flags, "flags");
      require(values, "values");
    }
    SinkOptionValues options;
    for (size_t i = 0; i < count; ++i) {
      options.emplace_back(std::string(in_text(flags[i], "flags[i]")), std::string(in_text(values[i], "values[i]")));
    }
    const SinkConfig sink = sink_from_options(std::string(in_text(name, "name")), in_text(kind, "kind"), options);
    AddSinkOptions add;
    add.backlog = backlog != 0;
    const AddedSink added = Lifecycle(*store->store).add_sink(sink, add);
    if (queued != nullptr) *queued = added.backlog;
    return DPGCERT_OK;
  });
}

int dpgcert_store_check(dpgcert_check_result** out, dpgcert_store* store, int64_t now,
                        const dpgcert_check_options* options, dpgcert_event_callback callback, void* payload) {
  return guarded(__func__, [&] {
    reset_out(out);
    require(store, "store");
    const dpgcert_check_options defaults = DPGCERT_CHECK_OPTIONS_INIT;
    const dpgcert_check_options& o = options != nullptr ? *options : defaults;
    check_version(o.version, DPGCERT_CHECK_OPTIONS_VERSION, "dpgcert_check_options");
    if ((callback == nullptr) != (o.callback_sink == nullptr)) {
      throw Error(ErrorCode::invalid_argument,
                  "a callback needs options->callback_sink, the name of the callback sink it serves (and a name a callback)");
    }
    CheckOptions co;
    co.deliver = o.deliver != 0;
    if (o.version >= 2) {
      co.exclusive = o.exclusive != 0;
      if (o.min_interval < 0) throw Error(ErrorCode::invalid_argument, "options->min_interval must not be negative");
      co.min_interval = std::chrono::seconds(o.min_interval);
    }
    if (o.version >= 3) {
      co.revocation.enabled = o.refresh_revocation != 0;
      if (o.revocation_interval < 0) throw Error(ErrorCode::invalid_argument, "options->revocation_interval must not be negative");
      if (o.revocation_interval > 0) co.revocation.interval = std::chrono::seconds(o.revocation_interval);
      if (o.revocation_trust != nullptr) {
        co.revocation.anchors = TrustAnchors::from_certificates(
            load_certificates(in_bytes(o.revocation_trust, o.revocation_trust_len, "revocation_trust")));
      }
      if (o.revocation_timeout_ms < 0) throw Error(ErrorCode::invalid_argument, "options->revocation_timeout_ms must not be negative");
      if (o.revocation_timeout_ms > 0) co.revocation.fetch.timeout = std::chrono::milliseconds(o.revocation_timeout_ms);
    }

    Lifecycle lifecycle(*store->store);
    if (callback != nullptr) {
      const std::string name(o.callback_sink);
      // Events are queued only for sinks configured in the store: a misspelt name would otherwise
      // make the callback silently never run.
      const auto sinks = lifecycle.sinks();
      if (std::none_of(sinks.begin(), sinks.end(),
                       [&](const SinkConfig& s) { return s.name == name && s.kind == "callback"; })) {
        throw Error(ErrorCode::not_found, "the store has no callback sink named '" + name +
                                              "' (add one with dpgcert_store_add_callback_sink)");
      }
      lifecycle.register_callback(name, [callback, payload](const Event& e) {
        const dpgcert_event event{e};
        const int rc = callback(&event, payload);
        return rc == 0 ? SinkResult::ok() : SinkResult::retry("the C callback returned " + std::to_string(rc));
      });
    }
    auto result = std::make_unique<dpgcert_check_result>();
    result->result = lifecycle.check(from_unix(now), co);
    for (const Event& e : result->result.emitted) result->events.push_back(dpgcert_event{e});
    *out = result.release();
    return DPGCERT_OK;
  });
}

int dpgcert_store_outbox_retention(dpgcert_store* store, int64_t* days) {
  return guarded(__func__, [&] {
    require(store, "store");
    const auto r = Lifecycle(*store->store).outbox_retention();
    return out_value(days, static_cast<std::int64_t>(r ? r->count() : 0), "days");
  });
}

int dpgcert_store_set_outbox_retention(dpgcert_store* store, int64_t days, const char* actor) {
  return guarded(__func__, [&] {
    require(store, "store");
    if (days < 0 || days > 36525) throw Error(ErrorCode::invalid_argument, "the outbox retention must be 0 (off) to 36525 days");
    Lifecycle(*store->store)
        .set_outbox_retention(days == 0 ? std::nullopt : std::optional<std::chrono::days>(days), actor ? actor : "");
    return DPGCERT_OK;
  });
}

void dpgcert_check_result_free(dpgcert_check_result* result) { delete result; }

int dpgcert_check_result_int(const dpgcert_check_result* result, int field, int64_t* out) {
  return guarded(__func__, [&] {
    require(result, "result");
    const CheckResult& r = result->result;
    switch (field) {
      case DPGCERT_CHECK_RESULT_AT: return out_value(out, to_unix(r.at));
      case DPGCERT_CHECK_RESULT_EVALUATED: return out_value(out, r.evaluated);
      case DPGCERT_CHECK_RESULT_EMITTED: return out_value(out, r.emitted.size());
      case DPGCERT_CHECK_RESULT_DELIVERED: return out_value(out, r.delivered());
      case DPGCERT_CHECK_RESULT_FAILED: return out_value(out, r.failed());
      case DPGCERT_CHECK_RESULT_WARNING: return out_value(out, r.state.warning);
      case DPGCERT_CHECK_RESULT_CRITICAL: return out_value(out, r.state.critical);
      case DPGCERT_CHECK_RESULT_WORST: return out_value(out, to_c(r.worst));
      case DPGCERT_CHECK_RESULT_SKIPPED: return out_value(out, r.skipped ? 1 : 0);
      case DPGCERT_CHECK_RESULT_NO_SINK: return out_value(out, r.no_sink ? 1 : 0);
      case DPGCERT_CHECK_RESULT_BACKLOG: return out_value(out, r.undelivered_backlog);
      case DPGCERT_CHECK_RESULT_PRUNED: return out_value(out, r.pruned);
      case DPGCERT_CHECK_RESULT_REVOCATION_RAN: return out_value(out, r.revocation.ran ? 1 : 0);
      case DPGCERT_CHECK_RESULT_REVOCATION_CHECKED: return out_value(out, r.revocation.checked);
      case DPGCERT_CHECK_RESULT_REVOCATION_REVOKED: return out_value(out, r.revocation.revoked.size());
      case DPGCERT_CHECK_RESULT_REVOCATION_PROBLEMS: return out_value(out, r.revocation.problems.size());
      default: throw Error(ErrorCode::invalid_argument, "unknown field " + std::to_string(field));
    }
  });
}

int dpgcert_check_result_skip_reason(const dpgcert_check_result* result, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(result, "result");
    if (!result->result.skipped) throw Error(ErrorCode::not_found, "the check ran: there is no reason it was skipped");
    return out_text(result->result.skip_reason, buf, len);
  });
}

int dpgcert_check_result_revocation_json(const dpgcert_check_result* result, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(result, "result");
    return out_text(to_json(result->result.revocation).dump(), buf, len);
  });
}

int dpgcert_store_set_revocation_refresh(dpgcert_store* store, int64_t interval_seconds) {
  return guarded(__func__, [&] {
    require(store, "store");
    if (interval_seconds < 0) throw Error(ErrorCode::invalid_argument, "the revocation refresh interval must not be negative");
    Lifecycle(*store->store)
        .set_revocation_refresh(interval_seconds == 0 ? std::nullopt
                                                      : std::optional<std::chrono::seconds>(interval_seconds));
    return DPGCERT_OK;
  });
}

int dpgcert_check_result_event(const dpgcert_check_result* result, size_t index, const dpgcert_event** event) {
  return guarded(__func__, [&] {
    if (event != nullptr) *event = nullptr;
    require(result, "result");
    require(event, "event");
    check_index(index, result->events.size());
    *event = &result->events[index];
    return DPGCERT_OK;
  });
}

int dpgcert_event_int(const dpgcert_event* event, int field, int64_t* out) {
  return guarded(__func__, [&] {
    require(event, "event");
    const Event& e = event->event;
    switch (field) {
      case DPGCERT_EVENT_KIND: return out_value(out, to_c(e.kind));
      case DPGCERT_EVENT_STAGE_DAYS:
        if (!e.stage_days) throw Error(ErrorCode::not_found, "a " + std::string(to_string(e.kind)) + " event has no stage");
        return out_value(out, *e.stage_days);
      case DPGCERT_EVENT_DAYS_LEFT: return out_value(out, e.days_left);
      case DPGCERT_EVENT_AT: return out_value(out, to_unix(e.at));
      case DPGCERT_EVENT_EFFECTIVE_NOT_AFTER: return out_value(out, to_unix(e.effective_not_after));
      case DPGCERT_EVENT_NOT_AFTER: return out_value(out, to_unix(e.certificate.not_after));
      case DPGCERT_EVENT_CERTIFICATE_ID: return out_value(out, e.certificate.id);
      default: throw Error(ErrorCode::invalid_argument, "field " + std::to_string(field) + " is not an integer field");
    }
  });
}

int dpgcert_event_text(const dpgcert_event* event, int field, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(event, "event");
    const Event& e = event->event;
    switch (field) {
      case DPGCERT_EVENT_ID: return out_text(e.id, buf, len);
      case DPGCERT_EVENT_FINGERPRINT: return out_text(e.certificate.fingerprint, buf, len);
      case DPGCERT_EVENT_CVR: return out_text(present(e.cvr(), "CVR"), buf, len);
      case DPGCERT_EVENT_MAILBOX: return out_text(present(e.certificate.mailbox, "mailbox"), buf, len);
      case DPGCERT_EVENT_COMMON_NAME: return out_text(present(e.certificate.common_name, "common name"), buf, len);
      case DPGCERT_EVENT_ORGANISATION_NAME:
        return out_text(present(e.organisation ? std::optional<std::string>(e.organisation->name)
                                                : e.certificate.organisation_name,
                                "organisation"),
                        buf, len);
      case DPGCERT_EVENT_SUPERSEDED_BY: return out_text(present(e.superseded_by, "successor"), buf, len);
      case DPGCERT_EVENT_JSON: return out_text(to_json(e).dump(), buf, len);
      default: throw Error(ErrorCode::invalid_argument, "field " + std::to_string(field) + " is not a text field");
    }
  });
}

}  // extern "C"
