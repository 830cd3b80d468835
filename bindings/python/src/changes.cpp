// The change notifications of the _dpgcert module: Change, ChangeListener (an iterator), and
// Store.listen().
#include "module.hpp"

#include <dpgcert/store_changes.hpp>

#include <chrono>
#include <cmath>
#include <mutex>

namespace dpgcert::python {
namespace {

/// A listener used from Python: one waiter at a time (the GIL is released while it waits).
class PyListener final {
 public:
  explicit PyListener(ChangeListener l) : listener_(std::move(l)) {}

  /// Waits up to `timeout` seconds (None: until a change comes, in slices that let signals in).
  std::optional<Change> wait(const std::optional<double>& timeout) {
    if (timeout && (!std::isfinite(*timeout) || *timeout < 0)) {
      throw Error(ErrorCode::invalid_argument, "timeout must be a finite number of seconds >= 0, or None");
    }
    for (;;) {
      const auto slice = timeout ? std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(*timeout * 1000)))
                                 : std::chrono::milliseconds(200);
      std::optional<Change> c;
      {
        py::gil_scoped_release unlocked;
        std::lock_guard lock(mu_);
        if (!listener_) throw Error(ErrorCode::invalid_argument, "the change listener is closed");
        c = listener_->next(slice);
      }
      if (c || timeout) return c;
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    }
  }

  void close() {
    py::gil_scoped_release unlocked;
    std::lock_guard lock(mu_);
    listener_.reset();
  }
  [[nodiscard]] bool closed() {
    std::lock_guard lock(mu_);
    return !listener_;
  }

 private:
  std::mutex mu_;
  std::optional<ChangeListener> listener_;
};

std::string change_repr(const Change& c) {
  std::string r = "<Change ";
  r += to_string(c.kind);
  if (c.mailbox) r.append(" mailbox=").append(repr_text(*c.mailbox));
  if (c.fingerprint) r.append(" fingerprint=").append(c.fingerprint->substr(0, 16));
  r += ">";
  return r;
}

}  // namespace

void bind_changes(py::module_& m) {
  py::class_<Change>(m, "Change",
                     "A change committed to a store: identifiers only. kind is 'certificate.import', "
                     "'certificate.status', 'mailbox.move', 'mailbox.remove' or 'reload' (reload everything). "
                     "An immutable value.")
      .def_property_readonly("kind", [](const Change& c) { return std::string(to_string(c.kind)); })
      .def_readonly("mailbox", &Change::mailbox)
      .def_readonly("fingerprint", &Change::fingerprint)
      .def("__eq__", equality<Change>([](const Change& a, const Change& b) { return a == b; }))
      .def("__hash__", [](const Change& c) {
        return py::hash(py::make_tuple(static_cast<int>(c.kind), c.mailbox, c.fingerprint));
      })
      .def("__repr__", change_repr);

  py::class_<PyListener>(m, "ChangeListener",
                         "Receives the changes committed to a PostgreSQL store from the moment it was opened "
                         "(Store.listen()), on a connection of its own. Iterating waits for the next change "
                         "without end. After a lost connection it connects again and yields a 'reload' first.")
      .def("poll", &PyListener::wait, py::arg("timeout") = py::none(),
           "Waits up to `timeout` seconds (None: until one comes) for the next change; None when none came. "
           "InputOutputError when the connection is lost and cannot be made again in time (the listener "
           "stays usable).")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", [](PyListener& self) { return *self.wait(std::nullopt); })
      .def("close", &PyListener::close, "Closes the listener's connection; later calls raise InvalidArgumentError.")
      .def_property_readonly("closed", &PyListener::closed)
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyListener& self, const py::args&) { self.close(); });

  py::reinterpret_borrow<py::class_<PyStore>>(m.attr("Store")).def(
      "listen",
      [](const PyStore& self) {
        const auto s = self.get();
        py::gil_scoped_release unlocked;
        return std::make_unique<PyListener>(s->listen());
      },
      "Opens a ChangeListener for the changes committed to this store from now on. UnsupportedError for a "
      "SQLite store (it sends no notifications).");
}

}  // namespace dpgcert::python
