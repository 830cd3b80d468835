// The core layer of the _dpgcert module: exceptions, times, bytes and passwords.
#include "module.hpp"

#include <datetime.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <exception>

namespace dpgcert::python {
namespace {

/// The exception classes, created once at import (index: ErrorCode value; 0 is the base Error).
std::array<PyObject*, 11> g_errors{};

/// The exception class for `code` (the base Error for an unknown one).
PyObject* error_class(ErrorCode code) noexcept {
  const auto index = static_cast<std::size_t>(code);
  return index < g_errors.size() && g_errors[index] != nullptr ? g_errors[index] : g_errors[0];
}

/// Sets the Python error for a dpgcert::Error: an instance of the class for its code, with `.code`.
/// (An exception translator must set the error and return, never throw.)
void set_error(ErrorCode code, const char* message) {
  PyObject* cls = error_class(code);
  PyObject* exc = PyObject_CallFunction(cls, "s", message);
  if (exc == nullptr) return;  // the failed call has set its own error
  const std::string name(to_string(code));
  if (PyObject_SetAttrString(exc, "code", py::str(name).ptr()) == 0) PyErr_SetObject(cls, exc);
  Py_DECREF(exc);
}

}  // namespace

py::object error_object(const Error& e) {
  py::object exc = py::reinterpret_borrow<py::object>(error_class(e.code()))(e.what());
  exc.attr("code") = py::str(std::string(to_string(e.code())));
  return exc;
}

py::object to_datetime(Time t) {
  using namespace std::chrono;
  const sys_days days = floor<std::chrono::days>(t);
  const year_month_day ymd{days};
  const hh_mm_ss<seconds> hms{t - days};
  const int y = static_cast<int>(ymd.year());
  if (y < 1 || y > 9999) throw std::overflow_error("time " + std::to_string(to_unix(t)) + " is outside datetime's range");
  PyObject* dt = PyDateTimeAPI->DateTime_FromDateAndTime(
      y, static_cast<int>(static_cast<unsigned>(ymd.month())), static_cast<int>(static_cast<unsigned>(ymd.day())),
      static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
      static_cast<int>(hms.seconds().count()), 0, PyDateTime_TimeZone_UTC, PyDateTimeAPI->DateTimeType);
  if (dt == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(dt);
}

Time from_datetime(py::handle value, const char* name) {
  if (!PyDateTime_Check(value.ptr())) {
    throw py::type_error(std::string(name) + " must be a datetime.datetime, not " +
                         std::string(py::str(py::type::handle_of(value).attr("__name__"))));
  }
  const py::object offset = value.attr("utcoffset")();
  if (offset.is_none()) {
    throw py::value_error(std::string(name) +
                          " is a naive datetime; give a timezone-aware one, e.g. datetime.now(timezone.utc)");
  }
  using namespace std::chrono;
  PyObject* v = value.ptr();
  const sys_days date{year{PyDateTime_GET_YEAR(v)} / PyDateTime_GET_MONTH(v) / PyDateTime_GET_DAY(v)};
  const std::int64_t local_us = duration_cast<microseconds>(date.time_since_epoch()).count() +
                                (PyDateTime_DATE_GET_HOUR(v) * 3600LL + PyDateTime_DATE_GET_MINUTE(v) * 60LL +
                                 PyDateTime_DATE_GET_SECOND(v)) * 1'000'000LL +
                                PyDateTime_DATE_GET_MICROSECOND(v);
  PyObject* d = offset.ptr();
  const std::int64_t offset_us =
      (PyDateTime_DELTA_GET_DAYS(d) * 86400LL + PyDateTime_DELTA_GET_SECONDS(d)) * 1'000'000LL +
      PyDateTime_DELTA_GET_MICROSECONDS(d);
  const std::int64_t utc_us = local_us - offset_us;
  const std::int64_t secs = utc_us >= 0 ? utc_us / 1'000'000 : -((-utc_us + 999'999) / 1'000'000);
  return from_unix(secs);
}

std::optional<Time> optional_time(const py::object& value, const char* name) {
  if (value.is_none()) return std::nullopt;
  return from_datetime(value, name);
}

std::string rfc3339(Time t) { return format_rfc3339(t); }

SecretBytes password_from(py::handle obj, const char* name) {
  std::span<const std::byte> bytes;
  std::optional<Buffer> held;
  if (PyUnicode_Check(obj.ptr())) {
    Py_ssize_t n = 0;
    const char* utf8 = PyUnicode_AsUTF8AndSize(obj.ptr(), &n);
    if (utf8 == nullptr) throw py::error_already_set();
    bytes = {reinterpret_cast<const std::byte*>(utf8), static_cast<std::size_t>(n)};
  } else {
    held.emplace(obj, name);
    bytes = held->bytes();
  }
  if (std::find(bytes.begin(), bytes.end(), std::byte{0}) != bytes.end()) {
    throw Error(ErrorCode::invalid_argument, std::string(name) + " contains a NUL character");
  }
  return SecretBytes(bytes);
}

py::bytes to_bytes(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

py::object not_implemented() { return py::reinterpret_borrow<py::object>(Py_NotImplemented); }

std::string repr_text(std::string_view s) { return std::string(py::repr(py::str(std::string(s)))); }

void bind_core(py::module_& m) {
  PyDateTime_IMPORT;
  if (PyDateTimeAPI == nullptr) throw py::error_already_set();

  // ---- exceptions ----
  const auto make_error = [&m](const char* name, const char* doc, py::tuple bases, const char* code) {
    PyObject* cls = PyErr_NewExceptionWithDoc((std::string("dpgcert.") + name).c_str(), doc, bases.ptr(), nullptr);
    if (cls == nullptr) throw py::error_already_set();
    py::object type = py::reinterpret_steal<py::object>(cls);
    if (code != nullptr) type.attr("code") = py::str(code);
    m.add_object(name, type);
    return cls;
  };
  PyObject* base = make_error("Error",
                              "Base of every dpgcert error. `code` is the stable error code ('bad_password', "
                              "'malformed', ...).",
                              py::make_tuple(py::handle(PyExc_Exception)), nullptr);
  const py::handle error_base(base);
  g_errors[0] = base;
  const auto sub = [&](ErrorCode code, const char* name, const char* doc, PyObject* builtin) {
    py::tuple bases = builtin != nullptr ? py::make_tuple(error_base, py::handle(builtin)) : py::make_tuple(error_base);
    g_errors[static_cast<std::size_t>(code)] = make_error(name, doc, bases, std::string(to_string(code)).c_str());
  };
  sub(ErrorCode::bad_password, "BadPasswordError",
      "A password did not open the file, or a store's key file or passphrase is wrong.", PyExc_ValueError);
  sub(ErrorCode::malformed, "MalformedError", "Not the expected format, truncated, or damaged.", PyExc_ValueError);
  sub(ErrorCode::unsupported, "UnsupportedError", "Well-formed, but uses something that is not available.", nullptr);
  sub(ErrorCode::limit_exceeded, "LimitExceededError",
      "The input is larger or costlier (size, iterations, bags) than the limits allow.", nullptr);
  sub(ErrorCode::not_found, "NotFoundError", "A named object (store, mailbox, ...) does not exist.", PyExc_LookupError);
  sub(ErrorCode::conflict, "ConflictError", "The change conflicts with what is stored.", nullptr);
  sub(ErrorCode::io, "InputOutputError", "A file, the database or the operating system failed.", PyExc_OSError);
  sub(ErrorCode::invalid_argument, "InvalidArgumentError", "An argument that cannot be right.", PyExc_ValueError);
  sub(ErrorCode::internal, "InternalError", "A bug or an unexpected failure of a dependency.", nullptr);
  sub(ErrorCode::locked, "LockedError", "A token's PIN is locked after too many wrong tries.", PyExc_PermissionError);

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      set_error(e.code(), e.what());
    }
  });
}

}  // namespace dpgcert::python
