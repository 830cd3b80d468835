// Shared by the files of the _dpgcert module (one per layer, each with its bind_<layer>): the
// conversions (times, bytes, passwords), the value helpers and the types more than one layer uses.
// The conventions are in _dpgcert.cpp.
#pragma once

#include <dpgcert/error.hpp>
#include <dpgcert/oces.hpp>
#include <dpgcert/secret.hpp>
#include <dpgcert/store.hpp>
#include <dpgcert/time.hpp>
#include <dpgcert/validation.hpp>
#include <dpgcert/x509.hpp>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dpgcert::python {

namespace py = pybind11;

// ---- the layers (PYBIND11_MODULE calls them in this order) ---------------------------------

/// Exceptions (dpgcert.Error and its subclasses) and the datetime C API (core.cpp).
void bind_core(py::module_& m);
/// Identity (oces.cpp).
void bind_oces(py::module_& m);
/// Certificate, load_certificates (x509.cpp).
void bind_x509(py::module_& m);
/// Pkcs12Bundle, load_pkcs12 (pkcs12.cpp).
void bind_pkcs12(py::module_& m);
/// Check, ValidationReport, CHECK_IDS, validate (validation.cpp).
void bind_validation(py::module_& m);
/// CertificateSummary, ImportResult, Store (store.cpp).
void bind_store(py::module_& m);
/// Token (token.cpp); before bind_store, whose methods take one.
void bind_token(py::module_& m);
/// Organisation, Contact, Mailbox, RemovalResult and the inventory methods of Store (inventory.cpp;
/// after bind_store).
void bind_inventory(py::module_& m);
/// Event, CheckResult, and Store.add_callback_sink / Store.check (lifecycle.cpp; after bind_store).
void bind_lifecycle(py::module_& m);
/// Change, ChangeListener and Store.listen (changes.cpp; after bind_store).
void bind_changes(py::module_& m);

// ---- time ------------------------------------------------------------------------------------

/// An aware UTC datetime for a Time. OverflowError outside datetime's years 1-9999.
[[nodiscard]] py::object to_datetime(Time t);
/// A Time from an aware datetime (microseconds are dropped, rounding down). TypeError for
/// anything that is not a datetime, ValueError for a naive one.
[[nodiscard]] Time from_datetime(py::handle value, const char* name);
[[nodiscard]] std::optional<Time> optional_time(const py::object& value, const char* name);
[[nodiscard]] std::string rfc3339(Time t);

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
[[nodiscard]] SecretBytes password_from(py::handle obj, const char* name);
[[nodiscard]] py::bytes to_bytes(std::span<const std::byte> b);
/// The exception a dpgcert::Error raises (its class for the code, `.code` set), not raised: for
/// results that carry an error per item (Store.import_files). Needs the GIL.
[[nodiscard]] py::object error_object(const Error& e);

// ---- values ----------------------------------------------------------------------------------

[[nodiscard]] py::object not_implemented();
[[nodiscard]] std::string repr_text(std::string_view s);

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
/// The path-validation options of validate() (as `dpgcert verify`'s), applied to a policy.
struct PathArgs {
  std::vector<std::string> policies;
  bool explicit_policy = false;
  bool inhibit_policy_mapping = false;
  bool inhibit_any_policy = false;
  std::vector<std::string> eku;
  std::optional<int> max_depth;
  std::optional<int> min_key_bits;
  std::optional<std::string> revocation;
  bool require_revocation = false;
  bool stale_crl_fails = false;

  void apply(ValidationPolicy& p) const {
    if (!policies.empty()) p.initial_policy_set = policies;
    p.explicit_policy = explicit_policy;
    p.inhibit_policy_mapping = inhibit_policy_mapping;
    p.inhibit_any_policy = inhibit_any_policy;
    if (!eku.empty()) p.required_extended_key_usage = eku;
    if (max_depth) p.max_depth = *max_depth;
    if (min_key_bits) p.set_min_key_bits(*min_key_bits);
    if (revocation) p.revocation = parse_revocation_scope(*revocation);
    p.require_revocation_data = require_revocation;
    p.stale_crl_fails = stale_crl_fails;
  }
};

struct ValidationArgs {
  PathArgs path;
  std::optional<Time> at;
  std::string policy = "oces_gateway";
  std::optional<std::string> environment;
  std::optional<std::string> expected_cvr;
  std::optional<int> min_days;
  std::optional<std::vector<Certificate>> trust;
  std::vector<Certificate> intermediates;
  std::vector<std::vector<std::byte>> crls;
  std::string revocation_mode = "offline";       ///< "offline" or "online"
  std::optional<double> revocation_timeout;       ///< online: seconds per OCSP/CRL request

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
    path.apply(in.policy);
    if (trust) in.anchors = TrustAnchors::from_certificates(*trust);
    in.intermediates = intermediates;
    for (const auto& crl : crls) {
      for (auto& c : load_crls(crl)) in.crls.push_back(std::move(c));
    }
    in.revocation_mode = parse_revocation_mode(revocation_mode);
    if (revocation_timeout) {
      if (!(*revocation_timeout > 0) || *revocation_timeout > 3600) {
        throw Error(ErrorCode::invalid_argument, "revocation_timeout must be more than 0 and at most 3600 seconds");
      }
      in.online.fetch.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(*revocation_timeout * 1000));
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

}  // namespace dpgcert::python
