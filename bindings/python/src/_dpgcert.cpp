// dpgcert._dpgcert: the compiled half of the Python package (pybind11). Conversion only: every
// decision is the C++ library's. The `dpgcert` package re-exports this module; its stubs are in
// dpgcert/_dpgcert.pyi and docs/python.md describes the API.
//
// Conventions:
// - Times are timezone-aware UTC datetimes, converted here by hand (never pybind11/chrono.h,
//   which makes naive local times); naive datetimes passed in are refused with ValueError.
// - Bytes come in through the buffer protocol (bytes, bytearray, memoryview) and are read while
//   the buffer is held, so they may be read with the GIL released.
// - Passwords are bytes-like or str (encoded as UTF-8) and are copied straight into SecretBytes.
// - The GIL is released around key derivation (PKCS#12 loading), validation and all store work.
// - dpgcert::Error becomes a dpgcert.Error subclass chosen by its code, with `.code` set.
#include <dpgcert/context.hpp>
#include <dpgcert/error.hpp>
#include <dpgcert/json.hpp>
#include <dpgcert/lifecycle.hpp>
#include <dpgcert/oces.hpp>
#include <dpgcert/oces_json.hpp>
#include <dpgcert/pkcs12.hpp>
#include <dpgcert/secret.hpp>
#include <dpgcert/store.hpp>
#include <dpgcert/time.hpp>
#include <dpgcert/validation.hpp>
#include <dpgcert/validation_json.hpp>
#include <dpgcert/vault.hpp>
#include <dpgcert/x509.hpp>

#include <nlohmann/json.hpp>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <datetime.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace py = pybind11;
using namespace dpgcert;

namespace {

// ---- exceptions ------------------------------------------------------------------------------

/// The exception classes, created once at import (index: ErrorCode value; 0 is the base Error).
std::array<PyObject*, 10> g_errors{};

/// Sets the Python error for a dpgcert::Error: an instance of the class for its code, with `.code`.
/// (An exception translator must set the error and return, never throw.)
void set_error(ErrorCode code, const char* message) {
  const auto index = static_cast<std::size_t>(code);
  PyObject* cls = index < g_errors.size() && g_errors[index] != nullptr ? g_errors[index] : g_errors[0];
  PyObject* exc = PyObject_CallFunction(cls, "s", message);
  if (exc == nullptr) return;  // the failed call has set its own error
  const std::string name(to_string(code));
  if (PyObject_SetAttrString(exc, "code", py::str(name).ptr()) == 0) PyErr_SetObject(cls, exc);
  Py_DECREF(exc);
}

// ---- time ------------------------------------------------------------------------------------

/// An aware UTC datetime for a Time. OverflowError outside datetime's years 1-9999.
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

/// A Time from an aware datetime (microseconds are dropped, rounding down). TypeError for
/// anything that is not a datetime, ValueError for a naive one.
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

// ---- bytes and secrets -----------------------------------------------------------------------

/// A held buffer (bytes, bytearray, memoryview, ...): its memory stays valid and unresizable until
/// released, so it can be read with the GIL released. Construct and destroy with the GIL held.
class Buffer final {
 public:
  Buffer(py::handle obj, const char* name) {
    if (PyUnicode_Check(obj.ptr())) {
      throw py::type_error(std::string(name) + " must be bytes-like (bytes, bytearray, memoryview), not str");
    }
    if (PyObject_GetBuffer(obj.ptr(), &view_, PyBUF_SIMPLE) != 0) throw py::error_already_set();
  }
  ~Buffer() { PyBuffer_Release(&view_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  [[nodiscard]] std::span<const std::byte> bytes() const noexcept {
    return {static_cast<const std::byte*>(view_.buf), static_cast<std::size_t>(view_.len)};
  }

 private:
  Py_buffer view_{};
};

/// A password from bytes-like or str (UTF-8), copied into wiped memory. A NUL byte is refused, as
/// in the C API (it almost always means a padded buffer).
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

// ---- values ----------------------------------------------------------------------------------

py::object not_implemented() { return py::reinterpret_borrow<py::object>(Py_NotImplemented); }

std::string repr_text(std::string_view s) { return std::string(py::repr(py::str(std::string(s)))); }

nlohmann::json certificate_json(const Certificate& c) {
  nlohmann::json j = to_json(c);
  j["oces"] = oces::to_json(oces::identify(c));
  return j;
}

/// Equality for a bound value type: NotImplemented for other types, as Python expects.
template <class T, class Eq>
auto equality(Eq eq) {
  return [eq](const T& self, const py::object& other) -> py::object {
    if (!py::isinstance<T>(other)) return not_implemented();
    return py::bool_(eq(self, other.cast<const T&>()));
  };
}

// ---- validation input ------------------------------------------------------------------------

/// The validation arguments validate() and Store.import_pkcs12() share, as given from Python.
struct ValidationArgs {
  std::optional<Time> at;
  std::string policy = "oces_gateway";
  std::optional<std::string> environment;
  std::optional<std::string> expected_cvr;
  std::optional<int> min_days;
  std::optional<std::vector<Certificate>> trust;
  std::vector<Certificate> intermediates;
  std::vector<std::vector<std::byte>> crls;

  ValidationArgs(const py::object& at_, std::string policy_, std::optional<std::string> environment_,
                 std::optional<std::string> expected_cvr_, std::optional<int> min_days_,
                 std::optional<std::vector<Certificate>> trust_, std::vector<Certificate> intermediates_,
                 const py::iterable& crls_)
      : at(optional_time(at_, "at")),
        policy(std::move(policy_)),
        environment(std::move(environment_)),
        expected_cvr(std::move(expected_cvr_)),
        min_days(min_days_),
        trust(std::move(trust_)),
        intermediates(std::move(intermediates_)) {
    if (PyBytes_Check(crls_.ptr()) || PyByteArray_Check(crls_.ptr())) {
      throw py::type_error("crls must be a sequence of bytes objects (one per CRL file), not bytes");
    }
    for (const py::handle crl : crls_) {
      const Buffer b(crl, "crls[]");
      crls.emplace_back(b.bytes().begin(), b.bytes().end());
    }
  }

  /// Builds the library's input; call without the GIL (parsing CRLs is work).
  [[nodiscard]] ValidationInput input() const {
    ValidationInput in;
    if (at) in.at = *at;
    if (policy == "oces_gateway") {
      in.policy = ValidationPolicy::oces_gateway();
    } else if (policy == "generic") {
      in.policy = ValidationPolicy::generic();
    } else {
      throw Error(ErrorCode::invalid_argument, "policy must be 'oces_gateway' or 'generic', not '" + policy + "'");
    }
    if (environment) {
      const auto env = oces::parse_environment(*environment);
      if (!env || *env == oces::Environment::unknown) {
        throw Error(ErrorCode::invalid_argument, "environment must be 'production' or 'test', not '" + *environment + "'");
      }
      in.policy.expected_environment = *env;
    }
    if (expected_cvr) in.policy.expected_cvr = *expected_cvr;
    if (min_days) in.policy.min_days = *min_days;
    if (trust) in.anchors = TrustAnchors::from_certificates(*trust);
    in.intermediates = intermediates;
    for (const auto& crl : crls) {
      for (auto& c : load_crls(crl)) in.crls.push_back(std::move(c));
    }
    return in;
  }
};

// ---- the store -------------------------------------------------------------------------------

/// A Python Store: the C++ store behind a shared pointer, so close() in one thread never frees a
/// store another thread is still using with the GIL released.
class PyStore final {
 public:
  PyStore(std::shared_ptr<Store> store, std::string path) : store_(std::move(store)), path_(std::move(path)) {}

  /// The store for one call (taken with the GIL held). InvalidArgumentError once closed.
  [[nodiscard]] std::shared_ptr<Store> get() const {
    if (!store_) throw Error(ErrorCode::invalid_argument, "the store '" + path_ + "' is closed");
    return store_;
  }
  void close() { store_.reset(); }
  [[nodiscard]] bool closed() const noexcept { return !store_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::shared_ptr<Store> store_;
  std::string path_;
};

StoreOptions store_options(const std::filesystem::path& path, const std::optional<std::filesystem::path>& key_file,
                           const py::object& passphrase, const std::optional<std::string>& actor,
                           const py::object& now) {
  StoreOptions o;
  o.path = path;
  if (key_file) o.unlock.key_file = *key_file;
  if (!passphrase.is_none()) o.unlock.passphrase = password_from(passphrase, "passphrase");
  if (actor) o.actor = *actor;
  if (const auto t = optional_time(now, "now")) o.clock = std::make_shared<FixedClock>(*t);
  return o;
}

CertificateQuery make_query(const std::optional<std::string>& organisation_cvr, const std::optional<std::string>& mailbox,
                            const std::optional<std::string>& status, const py::object& not_after_before,
                            const py::object& not_after_from, std::size_t limit, std::size_t offset) {
  CertificateQuery q;
  q.organisation_cvr = organisation_cvr;
  q.mailbox = mailbox;
  if (status) {
    q.status = parse_certificate_status(*status);
    if (!q.status) {
      throw Error(ErrorCode::invalid_argument,
                  "status must be 'active', 'superseded', 'revoked' or 'retired', not '" + *status + "'");
    }
  }
  q.not_after_before = optional_time(not_after_before, "not_after_before");
  q.not_after_from = optional_time(not_after_from, "not_after_from");
  q.limit = limit;
  q.offset = offset;
  return q;
}

std::string summary_repr(const CertificateSummary& s) {
  return "<CertificateSummary " + s.fingerprint.substr(0, 16) + " " + std::string(to_string(s.status)) +
         " not_valid_after=" + rfc3339(s.not_after) + (s.mailbox ? " mailbox=" + repr_text(*s.mailbox) : "") +
         (s.common_name ? " common_name=" + repr_text(*s.common_name) : "") + ">";
}

bool same_summary(const CertificateSummary& a, const CertificateSummary& b) {
  return a.id == b.id && a.fingerprint == b.fingerprint && a.status == b.status && a.not_before == b.not_before &&
         a.not_after == b.not_after && a.organisation_cvr == b.organisation_cvr && a.mailbox == b.mailbox &&
         a.cvr == b.cvr && a.generation == b.generation && a.type == b.type && a.environment == b.environment &&
         a.oces_id == b.oces_id && a.common_name == b.common_name;
}

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

PYBIND11_MODULE(_dpgcert, m) {
  m.doc() = "The compiled half of the dpgcert package; import dpgcert instead.";
  m.attr("__version__") = DPGCERT_VERSION_STRING;
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

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      set_error(e.code(), e.what());
    }
  });

  // ---- OCES identity ----
  py::class_<oces::Identity>(m, "Identity", "The Danish OCES identity of a certificate. An immutable value.")
      .def_property_readonly("generation", [](const oces::Identity& i) { return std::string(oces::to_string(i.generation)); })
      .def_property_readonly("type", [](const oces::Identity& i) { return std::string(oces::to_string(i.type)); })
      .def_property_readonly("environment", [](const oces::Identity& i) { return std::string(oces::to_string(i.environment)); })
      .def_property_readonly("is_oces", &oces::Identity::is_oces)
      .def_readonly("cvr", &oces::Identity::cvr)
      .def_readonly("cvr_valid", &oces::Identity::cvr_valid)
      .def_readonly("subject_serial", &oces::Identity::subject_serial)
      .def_readonly("uid", &oces::Identity::uid)
      .def_readonly("fid", &oces::Identity::fid)
      .def_readonly("rid", &oces::Identity::rid)
      .def_readonly("pid", &oces::Identity::pid)
      .def_readonly("uuid", &oces::Identity::uuid)
      .def_property_readonly("id", [](const oces::Identity& i) { return i.id(); })
      .def_readonly("organisation", &oces::Identity::organisation)
      .def_readonly("common_name", &oces::Identity::common_name)
      .def_readonly("email", &oces::Identity::email)
      .def_readonly("issuing_ca", &oces::Identity::issuing_ca)
      .def_property_readonly("warnings", [](const oces::Identity& i) { return i.warnings; })
      .def_property_readonly("summary", [](const oces::Identity& i) { return oces::summary(i); })
      .def("to_json", [](const oces::Identity& i) { return oces::to_json(i).dump(); },
           "The identity as a JSON object (text).")
      .def("__eq__", equality<oces::Identity>([](const auto& a, const auto& b) { return a == b; }))
      .def("__hash__", [](const oces::Identity& i) { return py::hash(py::str(oces::to_json(i).dump())); })
      .def("__repr__", [](const oces::Identity& i) { return "<Identity " + repr_text(oces::summary(i)) + ">"; });

  // ---- certificates ----
  py::class_<Certificate>(m, "Certificate",
                          "An X.509 certificate: an immutable value, equal to another with the same DER, "
                          "safe to share between threads.")
      .def_property_readonly("subject", [](const Certificate& c) { return c.subject().to_string(); })
      .def_property_readonly("issuer", [](const Certificate& c) { return c.issuer().to_string(); })
      .def_property_readonly("serial_number", [](const Certificate& c) {
        return py::reinterpret_steal<py::int_>(PyLong_FromString(c.serial_hex().c_str(), nullptr, 16));
      })
      .def_property_readonly("not_valid_before_utc", [](const Certificate& c) { return to_datetime(c.not_before()); })
      .def_property_readonly("not_valid_after_utc", [](const Certificate& c) { return to_datetime(c.not_after()); })
      .def_property_readonly("fingerprint_sha256", &Certificate::fingerprint_hex)
      .def_property_readonly("der", [](const Certificate& c) { return to_bytes(c.der()); })
      .def_property_readonly("pem", &Certificate::to_pem)
      .def_property_readonly("version", &Certificate::version)
      .def_property_readonly("key_algorithm", [](const Certificate& c) { return c.public_key().algorithm; })
      .def_property_readonly("key_bits", [](const Certificate& c) { return c.public_key().bits; })
      .def_property_readonly("signature_algorithm", &Certificate::signature_algorithm)
      .def_property_readonly("is_ca", &Certificate::is_ca)
      .def_property_readonly("key_usage", [](const Certificate& c) -> std::optional<std::vector<std::string>> {
        if (!c.key_usage()) return std::nullopt;
        return c.key_usage()->names();
      })
      .def_property_readonly("extended_key_usage", [](const Certificate& c) { return c.extended_key_usage(); })
      .def_property_readonly("email_addresses", [](const Certificate& c) { return c.subject_alt_names().emails; })
      .def_property_readonly("oces", [](const Certificate& c) { return oces::identify(c); })
      .def("to_json", [](const Certificate& c) { return certificate_json(c).dump(); },
           "The certificate as a JSON object (text), with its OCES identity under 'oces'.")
      .def("__eq__", equality<Certificate>([](const auto& a, const auto& b) { return a == b; }))
      .def("__hash__", [](const Certificate& c) { return py::hash(py::str(c.fingerprint_hex())); })
      .def("__repr__", [](const Certificate& c) {
        return "<Certificate subject=" + repr_text(c.subject().to_string()) +
               " not_valid_after=" + rfc3339(c.not_after()) + " sha256=" + c.fingerprint_hex().substr(0, 16) + ">";
      });

  m.def(
      "load_certificates",
      [](const py::object& data) {
        const Buffer b(data, "data");
        py::gil_scoped_release unlocked;
        return load_certificates(b.bytes());
      },
      py::arg("data"),
      "Parses every certificate in DER, PEM (several blocks) or bare base64 input.\n\n"
      "Raises MalformedError when there is none or one is broken, LimitExceededError past the limits.");

  // ---- PKCS#12 ----
  py::class_<Pkcs12Bundle>(m, "Pkcs12Bundle",
                           "An opened PKCS#12 file: leaf, private key, chain and how the file was protected. "
                           "The private key never leaves the object.")
      .def_property_readonly("leaf", [](const Pkcs12Bundle& b) { return b.leaf(); })
      .def_property_readonly("chain", [](const Pkcs12Bundle& b) { return b.chain(); })
      .def_property_readonly("certificates", [](const Pkcs12Bundle& b) {
        std::vector<Certificate> all;
        for (const auto& c : b.certificates()) all.push_back(c.certificate);
        return all;
      })
      .def_property_readonly("friendly_name", [](const Pkcs12Bundle& b) { return b.friendly_name(); })
      .def_property_readonly("has_private_key", [](const Pkcs12Bundle& b) { return b.private_key() != nullptr; })
      .def_property_readonly("key_matches", &Pkcs12Bundle::key_matches)
      .def_property_readonly("legacy", [](const Pkcs12Bundle& b) { return b.profile().legacy; })
      .def_property_readonly("legacy_reasons", [](const Pkcs12Bundle& b) { return b.profile().legacy_reasons; })
      .def("profile_json", [](const Pkcs12Bundle& b) { return to_json(b.profile()).dump(); },
           "How the file was protected, as a JSON object (text): legacy, legacy_reasons, mac, iterations, bags.")
      .def("__repr__", [](const Pkcs12Bundle& b) {
        return std::string("<Pkcs12Bundle leaf=") + (b.leaf() ? repr_text(b.leaf()->subject().to_string()) : "None") +
               " chain=" + std::to_string(b.chain().size()) + " key=" + (b.private_key() ? "yes" : "no") +
               " legacy=" + (b.profile().legacy ? "True" : "False") + ">";
      });

  m.def(
      "load_pkcs12",
      [](const py::object& data, const py::object& password) {
        const Buffer b(data, "data");
        const SecretBytes pw = password_from(password, "password");
        std::unique_ptr<Pkcs12Bundle> bundle;
        {
          py::gil_scoped_release unlocked;  // the key derivation takes milliseconds to seconds
          bundle = std::make_unique<Pkcs12Bundle>(load_pkcs12(b.bytes(), pw));
        }
        return bundle;
      },
      py::arg("data"), py::arg("password"),
      "Opens a PKCS#12 file (legacy RC2/3DES or modern AES/PBKDF2) with its password (bytes or str).\n\n"
      "Raises BadPasswordError, MalformedError, UnsupportedError, LimitExceededError.");

  // ---- validation ----
  py::class_<Check>(m, "Check", "One line of a validation report: id, status ('pass', 'warn', 'fail', 'skip'), message.")
      .def_readonly("id", &Check::id)
      .def_property_readonly("status", [](const Check& c) { return std::string(to_string(c.status)); })
      .def_readonly("message", &Check::message)
      .def("__eq__", equality<Check>([](const auto& a, const auto& b) {
             return a.id == b.id && a.status == b.status && a.message == b.message;
           }))
      .def("__hash__", [](const Check& c) {
        return py::hash(py::make_tuple(c.id, std::string(to_string(c.status)), c.message));
      })
      .def("__repr__", [](const Check& c) {
        return "<Check " + c.id + " " + std::string(to_string(c.status)) + " " + repr_text(c.message) + ">";
      });

  py::class_<ValidationReport>(m, "ValidationReport",
                               "The outcome of a validation: every check with pass/warn/fail/skip and a reason. "
                               "A failed validation is a report, not an exception.")
      .def_property_readonly("verdict", [](const ValidationReport& r) { return std::string(to_string(r.verdict)); })
      .def_property_readonly("ok", &ValidationReport::ok)
      .def_property_readonly("at", [](const ValidationReport& r) { return to_datetime(r.at); })
      .def_readonly("checks", &ValidationReport::checks)
      .def_readonly("certificate", &ValidationReport::certificate)
      .def_readonly("identity", &ValidationReport::identity)
      .def_readonly("chain", &ValidationReport::chain)
      .def_readonly("openssl_error", &ValidationReport::openssl_error)
      .def(
          "find", [](const ValidationReport& r, std::string_view id) -> std::optional<Check> {
            if (const Check* c = r.find(id)) return *c;
            return std::nullopt;
          },
          py::arg("id"), "The check with this id, or None.")
      .def("to_json", [](const ValidationReport& r) { return to_json(r).dump(); },
           "The report as a JSON object (text), as `dpgcert verify --json` prints it.")
      .def("to_text", [](const ValidationReport& r) { return to_text(r); },
           "The report as a checklist for people.")
      .def("__repr__", [](const ValidationReport& r) {
        return "<ValidationReport " + std::string(to_string(r.verdict)) +
               (r.certificate ? " subject=" + repr_text(r.certificate->subject().to_string()) : "") +
               " at=" + rfc3339(r.at) + ">";
      });

  std::vector<std::string> ids{std::string(check_id::pkcs12_opened),    std::string(check_id::key_matches_certificate),
                               std::string(check_id::pkcs12_profile),   std::string(check_id::chain),
                               std::string(check_id::validity),         std::string(check_id::revocation),
                               std::string(check_id::signature_algorithm), std::string(check_id::key_strength),
                               std::string(check_id::key_usage),        std::string(check_id::certificate_type),
                               std::string(check_id::environment),      std::string(check_id::cvr)};
  m.attr("CHECK_IDS") = py::tuple(py::cast(ids));

  m.def(
      "validate",
      [](const py::object& subject, const py::object& at, const py::object& password, std::string policy,
         std::optional<std::string> environment, std::optional<std::string> expected_cvr, std::optional<int> min_days,
         std::optional<std::vector<Certificate>> trust, std::vector<Certificate> intermediates,
         const py::iterable& crls) {
        if (at.is_none()) throw py::type_error("validate() needs the validation time: at=datetime(..., tzinfo=timezone.utc)");
        const ValidationArgs args(at, std::move(policy), std::move(environment), std::move(expected_cvr), min_days,
                                  std::move(trust), std::move(intermediates), crls);
        if (py::isinstance<Certificate>(subject) || py::isinstance<Pkcs12Bundle>(subject)) {
          if (!password.is_none()) throw py::type_error("password applies only to bytes input");
        }
        if (py::isinstance<Certificate>(subject)) {
          const Certificate cert = subject.cast<Certificate>();
          py::gil_scoped_release unlocked;
          return validate(cert, args.input());
        }
        if (py::isinstance<Pkcs12Bundle>(subject)) {
          const Pkcs12Bundle& bundle = subject.cast<const Pkcs12Bundle&>();
          py::gil_scoped_release unlocked;
          return validate(bundle, args.input());
        }
        const Buffer data(subject, "subject");
        std::optional<SecretBytes> pw;
        if (!password.is_none()) pw = password_from(password, "password");
        py::gil_scoped_release unlocked;
        return validate_bytes(data.bytes(), pw ? &*pw : nullptr, args.input());
      },
      py::arg("subject"), py::kw_only(), py::arg("at"), py::arg("password") = py::none(),
      py::arg("policy") = "oces_gateway", py::arg("environment") = py::none(), py::arg("expected_cvr") = py::none(),
      py::arg("min_days") = py::none(), py::arg("trust") = py::none(),
      py::arg("intermediates") = std::vector<Certificate>{}, py::arg("crls") = py::tuple(),
      "Validates a Certificate, a Pkcs12Bundle, or a file's bytes (PKCS#12 with `password`, or a certificate) "
      "at the aware datetime `at`, and returns a ValidationReport.");

  // ---- the store ----
  py::class_<CertificateSummary>(m, "CertificateSummary", "A certificate as a store lists it. An immutable value.")
      .def_readonly("id", &CertificateSummary::id)
      .def_readonly("fingerprint", &CertificateSummary::fingerprint)
      .def_property_readonly("status", [](const CertificateSummary& s) { return std::string(to_string(s.status)); })
      .def_property_readonly("not_valid_before_utc", [](const CertificateSummary& s) { return to_datetime(s.not_before); })
      .def_property_readonly("not_valid_after_utc", [](const CertificateSummary& s) { return to_datetime(s.not_after); })
      .def_readonly("organisation_cvr", &CertificateSummary::organisation_cvr)
      .def_readonly("mailbox", &CertificateSummary::mailbox)
      .def_readonly("cvr", &CertificateSummary::cvr)
      .def_property_readonly("generation", [](const CertificateSummary& s) { return std::string(oces::to_string(s.generation)); })
      .def_property_readonly("type", [](const CertificateSummary& s) { return std::string(oces::to_string(s.type)); })
      .def_property_readonly("environment", [](const CertificateSummary& s) { return std::string(oces::to_string(s.environment)); })
      .def_readonly("oces_id", &CertificateSummary::oces_id)
      .def_readonly("common_name", &CertificateSummary::common_name)
      .def("__eq__", equality<CertificateSummary>(same_summary))
      .def("__hash__", [](const CertificateSummary& s) {
        return py::hash(py::make_tuple(s.id, s.fingerprint, std::string(to_string(s.status))));
      })
      .def("__repr__", summary_repr);

  py::class_<ImportResult>(m, "ImportResult", "What Store.import_pkcs12() did.")
      .def_property_readonly("outcome", [](const ImportResult& r) { return std::string(to_string(r.outcome)); })
      .def_readonly("fingerprint", &ImportResult::fingerprint)
      .def_readonly("report", &ImportResult::report)
      .def_property_readonly("summary", [](const ImportResult& r) -> std::optional<CertificateSummary> {
        if (!r.record) return std::nullopt;
        return static_cast<const CertificateSummary&>(*r.record);
      })
      .def_readonly("superseded", &ImportResult::superseded)
      .def("__repr__", [](const ImportResult& r) {
        return "<ImportResult " + std::string(to_string(r.outcome)) + " " + r.fingerprint.substr(0, 16) +
               (r.superseded.empty() ? "" : " superseded=" + std::to_string(r.superseded.size())) + ">";
      });

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
      .def("__repr__", [](const CheckResult& r) {
        return "<CheckResult at=" + rfc3339(r.at) + " emitted=" + std::to_string(r.emitted.size()) +
               " delivered=" + std::to_string(r.delivered()) + " failed=" + std::to_string(r.failed()) +
               " worst=" + std::string(to_string(r.worst)) + ">";
      });

  py::class_<PyStore>(m, "Store",
                      "An inventory store (SQLite): organisations, mailboxes and certificates with their PKCS#12 "
                      "file and password sealed. May be shared between threads.")
      .def(py::init([](const std::filesystem::path& path, const std::optional<std::filesystem::path>& key_file,
                       const py::object& passphrase, const std::optional<std::string>& actor, const py::object& now) {
             StoreOptions o = store_options(path, key_file, passphrase, actor, now);
             std::shared_ptr<Store> s;
             {
               py::gil_scoped_release unlocked;
               s = Store::open(std::move(o));
             }
             return std::make_unique<PyStore>(std::move(s), path.string());
           }),
           py::arg("path"), py::kw_only(), py::arg("key_file") = py::none(), py::arg("passphrase") = py::none(),
           py::arg("actor") = py::none(), py::arg("now") = py::none(),
           "Opens an existing store. `key_file`/`passphrase` override what the store remembers about its master "
           "key; `now` (an aware datetime) freezes the store's clock.")
      .def_static(
          "create",
          [](const std::filesystem::path& path, const std::optional<std::filesystem::path>& key_file,
             const py::object& passphrase, std::optional<std::uint32_t> argon2_memory_kib,
             std::optional<std::uint32_t> argon2_iterations, std::optional<std::uint32_t> argon2_parallelism,
             const std::optional<std::string>& actor, const py::object& now) {
            StoreOptions o = store_options(path, key_file, passphrase, actor, now);
            std::optional<vault::KeySource> key;
            if (o.unlock.passphrase) {
              vault::Argon2Params params = vault::Argon2Params::defaults();
              if (argon2_memory_kib) params.memory_kib = *argon2_memory_kib;
              if (argon2_iterations) params.iterations = *argon2_iterations;
              if (argon2_parallelism) params.parallelism = *argon2_parallelism;
              key = vault::KeySource::passphrase(o.unlock.passphrase->clone(), params);
            } else if (key_file) {
              key = vault::KeySource::key_file(*key_file);
            } else {
              throw Error(ErrorCode::invalid_argument, "a new store needs key_file or passphrase");
            }
            std::shared_ptr<Store> s;
            {
              py::gil_scoped_release unlocked;
              s = Store::create(std::move(o), *key);
            }
            return PyStore(std::move(s), path.string());
          },
          py::arg("path"), py::kw_only(), py::arg("key_file") = py::none(), py::arg("passphrase") = py::none(),
          py::arg("argon2_memory_kib") = py::none(), py::arg("argon2_iterations") = py::none(),
          py::arg("argon2_parallelism") = py::none(), py::arg("actor") = py::none(), py::arg("now") = py::none(),
          "Creates a new store sealed under a key file (made when missing) or a passphrase (Argon2id).")
      .def_property_readonly("path", &PyStore::path)
      .def_property_readonly("closed", &PyStore::closed)
      .def(
          "import_pkcs12",
          [](const PyStore& self, const py::object& data, const py::object& password,
             std::optional<std::string> organisation_cvr, std::optional<std::string> mailbox, bool force,
             std::optional<std::string> actor, std::optional<std::string> source, const py::object& at,
             std::string policy, std::optional<std::string> environment, std::optional<std::string> expected_cvr,
             std::optional<int> min_days, std::optional<std::vector<Certificate>> trust,
             std::vector<Certificate> intermediates, const py::iterable& crls) {
            const auto store = self.get();
            const Buffer b(data, "data");
            const SecretBytes pw = password_from(password, "password");
            const ValidationArgs args(at, std::move(policy), std::move(environment), std::move(expected_cvr), min_days,
                                      std::move(trust), std::move(intermediates), crls);
            ImportOptions o;
            o.organisation_cvr = std::move(organisation_cvr);
            o.mailbox = std::move(mailbox);
            o.force = force;
            if (actor) o.actor = *actor;
            if (source) o.source = *source;
            py::gil_scoped_release unlocked;
            o.validation = args.input();  // `at` unset: the store clock's now
            const Pkcs12Bundle bundle = load_pkcs12(b.bytes(), pw);
            return store->import(bundle, b.bytes(), pw, o);
          },
          py::arg("data"), py::arg("password"), py::kw_only(), py::arg("organisation_cvr") = py::none(),
          py::arg("mailbox") = py::none(), py::arg("force") = false, py::arg("actor") = py::none(),
          py::arg("source") = py::none(), py::arg("at") = py::none(), py::arg("policy") = "oces_gateway",
          py::arg("environment") = py::none(), py::arg("expected_cvr") = py::none(), py::arg("min_days") = py::none(),
          py::arg("trust") = py::none(), py::arg("intermediates") = std::vector<Certificate>{},
          py::arg("crls") = py::tuple(),
          "Opens a PKCS#12 file, validates it (at `at`, default the store's now) and stores it with its password "
          "sealed. Idempotent by fingerprint; a failing report is refused unless `force`.")
      .def(
          "query",
          [](const PyStore& self, const std::optional<std::string>& organisation_cvr,
             const std::optional<std::string>& mailbox, const std::optional<std::string>& status,
             const py::object& not_after_before, const py::object& not_after_from, std::size_t limit,
             std::size_t offset) {
            const auto store = self.get();
            const CertificateQuery q =
                make_query(organisation_cvr, mailbox, status, not_after_before, not_after_from, limit, offset);
            py::gil_scoped_release unlocked;
            return store->query(q);
          },
          py::kw_only(), py::arg("organisation_cvr") = py::none(), py::arg("mailbox") = py::none(),
          py::arg("status") = py::none(), py::arg("not_after_before") = py::none(),
          py::arg("not_after_from") = py::none(), py::arg("limit") = 0, py::arg("offset") = 0,
          "Certificates matching every given filter, ordered by expiry then fingerprint.")
      .def(
          "count",
          [](const PyStore& self, const std::optional<std::string>& organisation_cvr,
             const std::optional<std::string>& mailbox, const std::optional<std::string>& status,
             const py::object& not_after_before, const py::object& not_after_from) {
            const auto store = self.get();
            const CertificateQuery q = make_query(organisation_cvr, mailbox, status, not_after_before, not_after_from, 0, 0);
            py::gil_scoped_release unlocked;
            return store->count(q);
          },
          py::kw_only(), py::arg("organisation_cvr") = py::none(), py::arg("mailbox") = py::none(),
          py::arg("status") = py::none(), py::arg("not_after_before") = py::none(),
          py::arg("not_after_from") = py::none(), "How many certificates match the filters.")
      .def(
          "expiring_before",
          [](const PyStore& self, const py::object& t) {
            const auto store = self.get();
            const CertificateQuery q = CertificateQuery::expiring_before(from_datetime(t, "t"));
            py::gil_scoped_release unlocked;
            return store->query(q);
          },
          py::arg("t"),
          "Active certificates whose validity ends before `t`, expired ones included: the renewal question.")
      .def(
          "current_bundle",
          [](const PyStore& self, const std::string& mailbox) -> std::unique_ptr<Pkcs12Bundle> {
            const auto store = self.get();
            std::optional<UnsealedBundle> current;
            {
              py::gil_scoped_release unlocked;
              current = store->current_bundle(mailbox);
            }
            if (!current) return nullptr;
            return std::make_unique<Pkcs12Bundle>(std::move(current->bundle));
          },
          py::arg("mailbox"),
          "The active certificate of a mailbox, unsealed and opened; None when it has none. "
          "NotFoundError for an unknown mailbox.")
      .def(
          "add_callback_sink",
          [](const PyStore& self, const std::string& name) {
            const auto store = self.get();
            py::gil_scoped_release unlocked;
            (void)store->add_sink(callback_sink(name));
          },
          py::arg("name"),
          "Adds an in-process callback sink: events emitted from now on are queued for it and handed to the "
          "callable that Store.check(callbacks={name: ...}) gives. ConflictError when the name exists.")
      .def(
          "check",
          [](const PyStore& self, const py::object& now, const std::optional<py::dict>& callbacks, bool deliver) {
            const auto store = self.get();
            const Time t = from_datetime(now, "now");
            PyCallbacks fns;
            if (callbacks) {
              for (const auto& [name, fn] : *callbacks) {
                if (!py::isinstance<py::str>(name)) throw py::type_error("callbacks must map sink names (str) to callables");
                fns.add(name.cast<std::string>(), py::reinterpret_borrow<py::object>(fn));
              }
            }
            CheckOptions o;
            o.deliver = deliver;
            CheckResult result;
            {
              Lifecycle lifecycle(*store);
              fns.register_with(lifecycle);
              py::gil_scoped_release unlocked;
              // Events are queued only for sinks configured in the store: a misspelt name would
              // otherwise make a callback silently never run.
              if (!fns.functions().empty()) {
                const auto sinks = store->sinks();
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
          "The renewal check at the aware datetime `now`: records which threshold each due certificate has "
          "crossed and the pending status changes, with one event each, then (unless deliver=False) delivers "
          "what is due to the store's sinks - to callbacks[name] for the callback sink `name`. Returns a "
          "CheckResult whose `emitted` lists the new events.")
      .def("close", &PyStore::close, "Closes the store; later calls raise InvalidArgumentError.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyStore& self, const py::args&) { self.close(); })
      .def("__repr__", [](const PyStore& s) {
        return "<Store " + repr_text(s.path()) + (s.closed() ? " closed" : "") + ">";
      });
}
