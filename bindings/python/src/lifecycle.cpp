// The lifecycle layer of the _dpgcert module: Event, CheckResult, and the renewal methods of Store.
#include "module.hpp"

#include <dpgcert/lifecycle.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace dpgcert::python {
namespace {

std::string event_repr(const Event& e) {
  return "<Event " + std::string(to_string(e.kind)) + (e.stage_days ? " stage=" + std::to_string(*e.stage_days) : "") +
         " days_left=" + std::to_string(e.days_left) + " " + e.certificate.fingerprint.substr(0, 16) +
         (e.certificate.mailbox ? " mailbox=" + repr_text(*e.certificate.mailbox) : "") + " id=" + e.id + ">";
}

/// Python callables as the functions of callback sinks for one check. Each is called with the GIL
/// taken, on the thread running the check (which released it). Returning acknowledges the event;
/// raising an Exception leaves it for a later run, with the exception as the delivery's error.
/// Anything else raised (KeyboardInterrupt, SystemExit) also leaves the event and is re-raised
/// once the check is over.
class PyCallbacks final {
 public:
  void add(std::string name, py::object fn) {
    if (!PyCallable_Check(fn.ptr())) throw py::type_error("callbacks['" + name + "'] is not callable");
    fns_.emplace_back(std::move(name), std::move(fn));
  }
  void register_with(Lifecycle& lifecycle) {
    for (auto& [name, fn] : fns_) {
      // A borrowed pointer: copies of the std::function are made without the GIL, and fns_ keeps
      // the callable alive for the whole check.
      PyObject* callable = fn.ptr();
      lifecycle.register_callback(name, [this, callable](const Event& e) { return call(callable, e); });
    }
  }
  [[nodiscard]] const auto& functions() const noexcept { return fns_; }
  /// Re-raises what interrupted a callback, if anything did. With the GIL.
  void rethrow() {
    if (interrupted_) {
      py::error_already_set e = std::move(*interrupted_);
      interrupted_.reset();
      throw e;
    }
  }

 private:
  SinkResult call(PyObject* callable, const Event& e) {
    py::gil_scoped_acquire gil;
    try {
      const py::handle fn(callable);
      fn(py::cast(e));
      return SinkResult::ok();
    } catch (py::error_already_set& err) {
      const std::string why = std::string("the Python callback raised ") + err.what();
      if (!err.matches(PyExc_Exception) && !interrupted_) interrupted_.emplace(std::move(err));
      return SinkResult::retry(why);
    }
  }

  std::vector<std::pair<std::string, py::object>> fns_;
  std::optional<py::error_already_set> interrupted_;
};

}  // namespace

void bind_lifecycle(py::module_& m) {
  // ---- renewal tracking ----
  py::class_<Event>(m, "Event",
                    "A renewal event, as the sinks receive it. Never holds a secret. An immutable value.")
      .def_readonly("id", &Event::id)
      .def_property_readonly("kind", [](const Event& e) { return std::string(to_string(e.kind)); })
      .def_readonly("stage_days", &Event::stage_days)
      .def_property_readonly("at", [](const Event& e) { return to_datetime(e.at); })
      .def_readonly("days_left", &Event::days_left)
      .def_property_readonly("effective_not_after_utc", [](const Event& e) { return to_datetime(e.effective_not_after); })
      .def_property_readonly("certificate", [](const Event& e) { return static_cast<const CertificateSummary&>(e.certificate); })
      .def_property_readonly("fingerprint", [](const Event& e) { return e.certificate.fingerprint; })
      .def_property_readonly("cvr", &Event::cvr)
      .def_property_readonly("mailbox", [](const Event& e) { return e.certificate.mailbox; })
      .def_property_readonly("organisation_name", [](const Event& e) -> std::optional<std::string> {
        return e.organisation ? std::optional<std::string>(e.organisation->name) : e.certificate.organisation_name;
      })
      .def_readonly("superseded_by", &Event::superseded_by)
      .def_readonly("failed_checks", &Event::failed_checks)
      .def("to_json", [](const Event& e) { return to_json(e).dump(); },
           "The event as JSON (text), the payload the sinks receive (docs/lifecycle.md).")
      .def("__eq__", equality<Event>([](const auto& a, const auto& b) { return to_json(a) == to_json(b); }))
      .def("__hash__", [](const Event& e) { return py::hash(py::str(e.id)); })
      .def("__repr__", event_repr);

  py::class_<CheckResult>(m, "CheckResult", "What Store.check() did.")
      .def_property_readonly("at", [](const CheckResult& r) { return to_datetime(r.at); })
      .def_readonly("emitted", &CheckResult::emitted)
      .def_readonly("evaluated", &CheckResult::evaluated)
      .def_property_readonly("delivered", &CheckResult::delivered)
      .def_property_readonly("failed", &CheckResult::failed)
      .def_property_readonly("warning", [](const CheckResult& r) { return r.state.warning; })
      .def_property_readonly("critical", [](const CheckResult& r) { return r.state.critical; })
      .def_property_readonly("worst", [](const CheckResult& r) { return std::string(to_string(r.worst)); })
      .def_readonly("skipped", &CheckResult::skipped)
      .def_readonly("no_sink", &CheckResult::no_sink)
      .def_readonly("undelivered_backlog", &CheckResult::undelivered_backlog)
      .def_readonly("pruned", &CheckResult::pruned)
      .def_property_readonly(
          "revocation",
          [](const CheckResult& r) {
            const py::object loads = py::module_::import("json").attr("loads");
            return loads(to_json(r.revocation)["revocation"].dump());
          },
          "The revocation refresh as a dict: ran, skip_reason, checked, good, revoked (fingerprints), problems "
          "(fingerprint, subject, message, errors: kind, reason, url), next_due (RFC 3339 or None).")
      .def_property_readonly("skip_reason", [](const CheckResult& r) -> std::optional<std::string> {
        if (!r.skipped) return std::nullopt;
        return r.skip_reason;
      })
      .def("__repr__", [](const CheckResult& r) {
        return "<CheckResult at=" + rfc3339(r.at) + " emitted=" + std::to_string(r.emitted.size()) +
               " delivered=" + std::to_string(r.delivered()) + " failed=" + std::to_string(r.failed()) +
               " worst=" + std::string(to_string(r.worst)) + ">";
      });

  py::reinterpret_borrow<py::class_<PyStore>>(m.attr("Store"))
      .def(
          "add_callback_sink",
          [](const PyStore& self, const std::string& name) {
            const auto store = self.get();
            py::gil_scoped_release unlocked;
            (void)Lifecycle(*store).add_sink(callback_sink(name));
          },
          py::arg("name"),
          "Adds an in-process callback sink: events emitted from now on are queued for it and handed to the "
          "callable that Store.check(callbacks={name: ...}) gives. ConflictError when the name exists.")
      .def_property_readonly(
          "outbox_retention_days",
          [](const PyStore& self) -> std::optional<std::int64_t> {
            const auto store = self.get();
            py::gil_scoped_release unlocked;
            const auto r = Lifecycle(*store).outbox_retention();
            return r ? std::optional<std::int64_t>(r->count()) : std::nullopt;
          },
          "How many days delivered events stay in the outbox before a check prunes them (None: forever; "
          "365 when the store sets nothing).")
      .def(
          "set_outbox_retention",
          [](const PyStore& self, std::optional<std::int64_t> days, const std::string& actor) {
            const auto store = self.get();
            py::gil_scoped_release unlocked;
            Lifecycle(*store).set_outbox_retention(days ? std::optional<std::chrono::days>(*days) : std::nullopt, actor);
          },
          py::arg("days"), py::kw_only(), py::arg("actor") = "",
          "Sets how many days delivered events stay in the outbox (None: forever); audited. "
          "InvalidArgumentError outside 1..36525.")
      .def_property_readonly(
          "revocation_refresh_seconds",
          [](const PyStore& self) -> std::optional<std::int64_t> {
            const auto store = self.get();
            py::gil_scoped_release unlocked;
            const auto r = Lifecycle(*store).revocation_refresh();
            return r ? std::optional<std::int64_t>(r->count()) : std::nullopt;
          },
          "The store's revocation refresh interval in seconds: every check refreshes revocation at most this "
          "often (None: only checks with refresh_revocation=True).")
      .def(
          "set_revocation_refresh",
          [](const PyStore& self, std::optional<std::int64_t> seconds, const std::string& actor) {
            const auto store = self.get();
            py::gil_scoped_release unlocked;
            Lifecycle(*store).set_revocation_refresh(seconds ? std::optional<std::chrono::seconds>(*seconds) : std::nullopt,
                                                     actor);
          },
          py::arg("seconds"), py::kw_only(), py::arg("actor") = "",
          "Sets (or with None clears) the store's revocation refresh interval; audited. InvalidArgumentError "
          "below 60 s or above a year.")
      .def(
          "add_sink",
          [](const PyStore& self, const std::string& name, const std::string& kind,
             const std::vector<std::pair<std::string, std::string>>& options, bool backlog) {
            const auto store = self.get();
            py::gil_scoped_release unlocked;
            const SinkConfig sink = sink_from_options(name, kind, options);
            AddSinkOptions add;
            add.backlog = backlog;
            return Lifecycle(*store).add_sink(sink, add).backlog;
          },
          py::arg("name"), py::arg("kind"), py::arg("options") = std::vector<std::pair<std::string, std::string>>{},
          py::kw_only(), py::arg("backlog") = true,
          "Adds a sink of any registered kind ('jsonl', 'command', 'webhook', 'callback', ...) from (option, value) "
          "pairs as `dpgcert sink add` takes them, e.g. [('webhook', url), ('secret-file', path)]. With backlog, "
          "the events that waited for a sink are queued for it too. Returns how many were. ConflictError when "
          "the name exists, InvalidArgumentError for an unknown kind or option or a bad value.")
      .def(
          "check",
          [](const PyStore& self, const py::object& now, const std::optional<py::dict>& callbacks, bool deliver,
             bool exclusive, const py::object& min_interval, bool refresh_revocation,
             const py::object& revocation_interval, std::optional<std::vector<Certificate>> revocation_trust,
             std::optional<double> revocation_timeout) {
            const auto store = self.get();
            const Time t = from_datetime(now, "now");
            CheckOptions o;
            o.deliver = deliver;
            o.exclusive = exclusive;
            o.revocation.enabled = refresh_revocation;
            if (!revocation_interval.is_none()) {
              const py::object timedelta = py::module_::import("datetime").attr("timedelta");
              if (!py::isinstance(revocation_interval, timedelta)) throw py::type_error("revocation_interval must be a datetime.timedelta");
              const double seconds = revocation_interval.attr("total_seconds")().cast<double>();
              if (seconds < 1) throw py::value_error("revocation_interval must be at least a second");
              o.revocation.interval = std::chrono::seconds(static_cast<std::int64_t>(seconds));
            }
            if (revocation_trust) o.revocation.anchors = TrustAnchors::from_certificates(*revocation_trust);
            if (revocation_timeout) {
              if (!(*revocation_timeout > 0) || *revocation_timeout > 3600) {
                throw py::value_error("revocation_timeout must be more than 0 and at most 3600 seconds");
              }
              o.revocation.fetch.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(*revocation_timeout * 1000));
            }
            if (!min_interval.is_none()) {
              const py::object timedelta = py::module_::import("datetime").attr("timedelta");
              if (!py::isinstance(min_interval, timedelta)) throw py::type_error("min_interval must be a datetime.timedelta");
              const double seconds = min_interval.attr("total_seconds")().cast<double>();
              if (seconds < 0) throw py::value_error("min_interval must not be negative");
              if (seconds > 3650.0 * 86400) throw py::value_error("min_interval must be at most 3650 days");
              o.min_interval = std::chrono::seconds(static_cast<std::int64_t>(seconds));
            }
            PyCallbacks fns;
            if (callbacks) {
              for (const auto& [name, fn] : *callbacks) {
                if (!py::isinstance<py::str>(name)) throw py::type_error("callbacks must map sink names (str) to callables");
                fns.add(name.cast<std::string>(), py::reinterpret_borrow<py::object>(fn));
              }
            }
            CheckResult result;
            {
              Lifecycle lifecycle(*store);
              fns.register_with(lifecycle);
              py::gil_scoped_release unlocked;
              // Events are queued only for sinks configured in the store: a misspelt name would
              // otherwise make a callback silently never run.
              if (!fns.functions().empty()) {
                const auto sinks = lifecycle.sinks();
                for (const auto& entry : fns.functions()) {
                  const std::string& name = entry.first;
                  if (std::none_of(sinks.begin(), sinks.end(), [&](const SinkConfig& s) {
                        return s.name == name && s.kind == "callback";
                      })) {
                    throw Error(ErrorCode::not_found, "the store has no callback sink named '" + name +
                                                          "' (add one with Store.add_callback_sink)");
                  }
                }
              }
              result = lifecycle.check(t, o);
            }
            fns.rethrow();
            return result;
          },
          py::arg("now"), py::kw_only(), py::arg("callbacks") = py::none(), py::arg("deliver") = true,
          py::arg("exclusive") = false, py::arg("min_interval") = py::none(), py::arg("refresh_revocation") = false,
          py::arg("revocation_interval") = py::none(), py::arg("revocation_trust") = py::none(),
          py::arg("revocation_timeout") = py::none(),
          "The renewal check at the aware datetime `now`: records which threshold each due certificate has "
          "crossed and the pending status changes, with one event each, then (unless deliver=False) delivers "
          "what is due to the store's sinks - to callbacks[name] for the callback sink `name`. Returns a "
          "CheckResult whose `emitted` lists the new events. exclusive=True: one run at a time across "
          "processes and nodes (the store's run lock; when another run holds it, the result is `skipped`). "
          "min_interval (a timedelta, whole seconds; implies exclusive): skipped too when the last check on the "
          "store, on any node, ended less than that long ago by the wall clock (docs/lifecycle.md).");
}

}  // namespace dpgcert::python
