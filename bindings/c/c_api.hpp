// The C API's private half: what the opaque handles hold, and the boundary every exported function
// goes through (errors to codes, arguments and outputs to and from C).
#pragma once

#include <dpgcert/dpgcert.h>

#include <dpgcert/bulk_import.hpp>
#include <dpgcert/error.hpp>
#include <dpgcert/lifecycle.hpp>
#include <dpgcert/oces.hpp>
#include <dpgcert/pkcs12.hpp>
#include <dpgcert/secret.hpp>
#include <dpgcert/store.hpp>
#include <dpgcert/token.hpp>
#include <dpgcert/validation.hpp>
#include <dpgcert/x509.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// ---- the handles: each holds one C++ value --------------------------------------------------

struct dpgcert_certificate {
  dpgcert::Certificate cert;
};
struct dpgcert_certificate_list {
  std::vector<dpgcert::Certificate> certs;
};
struct dpgcert_identity {
  dpgcert::oces::Identity identity;
};
struct dpgcert_pkcs12 {
  dpgcert::Pkcs12Bundle bundle;
};
struct dpgcert_report {
  dpgcert::ValidationReport report;
};
struct dpgcert_token {
  dpgcert::token::Token token;
};
struct dpgcert_store {
  std::unique_ptr<dpgcert::Store> store;
};
struct dpgcert_change_listener {
  dpgcert::ChangeListener listener;
};
struct dpgcert_import_result {
  dpgcert::ImportResult result;
};
struct dpgcert_bulk_result {
  std::vector<dpgcert::BulkImportResult> results;
};
struct dpgcert_summary_list {
  std::vector<dpgcert::CertificateSummary> rows;
};
struct dpgcert_event {
  dpgcert::Event event;
};
struct dpgcert_check_result {
  dpgcert::CheckResult result;
  std::vector<dpgcert_event> events;  ///< result.emitted, as handles the caller borrows
};

namespace dpgcert::capi {

/// A failure of the C layer itself (a NULL argument, a buffer too small, ...), thrown inside a
/// guarded body and turned into its code at the boundary.
class CallError final {
 public:
  CallError(int code, std::string message) : code_(code), message_(std::move(message)) {}
  [[nodiscard]] int code() const noexcept { return code_; }
  [[nodiscard]] const std::string& message() const noexcept { return message_; }

 private:
  int code_;
  std::string message_;
};

/// Records `message` as this thread's last error (prefixed with the function name) and returns
/// `code`. Never allocates: the message lives in a fixed thread-local buffer, so it also works
/// when memory has run out.
int fail(const char* function, int code, std::string_view message) noexcept;
/// Empties this thread's last error (every call starts with this).
void clear_error() noexcept;

/// The C code of a library error: ErrorCode's values are fixed (error.hpp) and mirror -1..-10
/// here; anything else is a bug.
inline int c_code(const Error& e) noexcept {
  const int code = static_cast<int>(e.code());
  return code >= 1 && code <= 10 ? -code : DPGCERT_E_INTERNAL;
}

/// Runs `body` (which returns DPGCERT_OK or a code) with every exception caught and turned into
/// a status code and a message: nothing C++ crosses the C boundary.
template <class Body>
int guarded(const char* function, Body&& body) noexcept {
  clear_error();
  try {
    return body();
  } catch (const CallError& e) {
    return fail(function, e.code(), e.message());
  } catch (const Error& e) {
    return fail(function, c_code(e), e.what());
  } catch (const std::bad_alloc&) {
    return fail(function, DPGCERT_E_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return fail(function, DPGCERT_E_INTERNAL, e.what());
  } catch (...) {
    return fail(function, DPGCERT_E_INTERNAL, "an unexpected exception");
  }
}

/// Throws CallError(DPGCERT_E_NULL_ARGUMENT) naming the argument when `p` is NULL.
inline void require(const void* p, const char* name) {
  if (p == nullptr) throw CallError(DPGCERT_E_NULL_ARGUMENT, std::string("argument '") + name + "' is NULL");
}

/// Sets `*out` to NULL when `out` is not NULL (a constructor's first step), then requires it.
template <class T>
void reset_out(T** out) {
  if (out != nullptr) *out = nullptr;
  require(out, "out");
}

/// Input bytes: (NULL, 0) is empty, (NULL, n > 0) an error.
std::span<const std::byte> in_bytes(const uint8_t* data, std::size_t len, const char* name);
/// A password (or passphrase): UTF-8 without NUL bytes, copied into wiped memory.
SecretBytes in_password(const uint8_t* data, std::size_t len, const char* name);
/// NUL-terminated text that must be given.
std::string_view in_text(const char* text, const char* name);

/// Copies bytes into the caller's buffer with size negotiation (see dpgcert.h).
int out_bytes(std::span<const std::byte> data, uint8_t* buf, std::size_t* len);
/// Copies text and a terminating NUL into the caller's buffer with size negotiation.
int out_text(std::string_view text, char* buf, std::size_t* len);
/// An integer or flag output.
template <class T, class V>
int out_value(T* out, V value, const char* name = "out") {
  require(out, name);
  *out = static_cast<T>(value);
  return DPGCERT_OK;
}

/// Throws CallError(DPGCERT_E_OUT_OF_RANGE) unless index < size.
void check_index(std::size_t index, std::size_t size);
/// Throws CallError(DPGCERT_E_VERSION) unless 1 <= version <= current.
void check_version(unsigned int version, unsigned int current, const char* what);
/// Throws Error(not_found) for an absent optional text, naming what is missing.
std::string_view present(const std::optional<std::string>& value, const char* what);

// ---- enumerations: explicit tables, so the C values never follow a C++ reordering ----------

int to_c(oces::Generation v) noexcept;
int to_c(oces::CertificateType v) noexcept;
int to_c(oces::Environment v) noexcept;
int to_c(CheckStatus v) noexcept;
int to_c(CertificateStatus v) noexcept;
int to_c(ImportOutcome v) noexcept;
int to_c(EventKind v) noexcept;
int to_c(Severity v) noexcept;
/// The environment a C caller asked for; Error(invalid_argument) for an unknown value.
oces::Environment environment_from_c(int v);
/// The certificate status a C caller asked for; Error(invalid_argument) for an unknown value.
CertificateStatus certificate_status_from_c(int v);

// ---- shared conversions -------------------------------------------------------------------

/// The ValidationInput an options struct describes (NULL: the defaults, at 0).
ValidationInput validation_input(const dpgcert_validate_options* options);
/// Wraps a value in a new handle for `*out`.
template <class Handle, class Value>
int make_handle(Handle** out, Value&& value) {
  *out = new Handle{std::forward<Value>(value)};
  return DPGCERT_OK;
}

}  // namespace dpgcert::capi
