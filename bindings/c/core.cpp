// The C API's boundary: versions, status codes and the thread-local last error, enumeration
// names, and the conversions every other file uses.
#include "c_api.hpp"

#include <dpgcert/time.hpp>

#include <algorithm>
#include <cstring>

namespace dpgcert::capi {
namespace {

// A fixed buffer rather than a std::string: recording an error must not fail, not even for
// std::bad_alloc. Long messages are cut (at a UTF-8 character boundary).
constexpr std::size_t kMessageCapacity = 2048;
thread_local char t_last_error[kMessageCapacity] = "";

void append(std::size_t& used, std::string_view text) noexcept {
  std::size_t n = std::min(text.size(), kMessageCapacity - 1 - used);
  if (n < text.size()) {
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0U) == 0x80U) --n;  // no half characters
  }
  std::memcpy(t_last_error + used, text.data(), n);
  used += n;
}

}  // namespace

int fail(const char* function, int code, std::string_view message) noexcept {
  std::size_t used = 0;
  append(used, function);
  append(used, ": ");
  append(used, message);
  t_last_error[used] = '\0';
  return code;
}

void clear_error() noexcept { t_last_error[0] = '\0'; }

std::span<const std::byte> in_bytes(const uint8_t* data, std::size_t len, const char* name) {
  if (data == nullptr) {
    if (len != 0) throw CallError(DPGCERT_E_NULL_ARGUMENT, std::string("argument '") + name + "' is NULL");
    return {};
  }
  return {reinterpret_cast<const std::byte*>(data), len};
}

SecretBytes in_password(const uint8_t* data, std::size_t len, const char* name) {
  const auto bytes = in_bytes(data, len, name);
  // A NUL inside a password almost always means the caller passed a buffer size, not the length.
  if (std::find(bytes.begin(), bytes.end(), std::byte{0}) != bytes.end()) {
    throw Error(ErrorCode::invalid_argument, std::string(name) + " contains a NUL byte (give its length, not its buffer size)");
  }
  return SecretBytes(bytes);
}

std::string_view in_text(const char* text, const char* name) {
  require(text, name);
  return text;
}

int out_bytes(std::span<const std::byte> data, uint8_t* buf, std::size_t* len) {
  require(len, "len");
  const std::size_t capacity = *len;
  if (buf == nullptr && capacity != 0) throw CallError(DPGCERT_E_NULL_ARGUMENT, "argument 'buf' is NULL but *len is not 0");
  *len = data.size();
  if (capacity < data.size()) {
    throw CallError(DPGCERT_E_BUFFER_TOO_SMALL, "the buffer holds " + std::to_string(capacity) + " bytes, " +
                                                    std::to_string(data.size()) + " are needed");
  }
  if (!data.empty()) std::memcpy(buf, data.data(), data.size());
  return DPGCERT_OK;
}

int out_text(std::string_view text, char* buf, std::size_t* len) {
  require(len, "len");
  const std::size_t capacity = *len;
  if (buf == nullptr && capacity != 0) throw CallError(DPGCERT_E_NULL_ARGUMENT, "argument 'buf' is NULL but *len is not 0");
  *len = text.size() + 1;
  if (capacity < text.size() + 1) {
    throw CallError(DPGCERT_E_BUFFER_TOO_SMALL, "the buffer holds " + std::to_string(capacity) + " bytes, " +
                                                    std::to_string(text.size() + 1) + " are needed");
  }
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return DPGCERT_OK;
}

void check_index(std::size_t index, std::size_t size) {
  if (index >= size) {
    throw CallError(DPGCERT_E_OUT_OF_RANGE,
                    "index " + std::to_string(index) + " is past the end (" + std::to_string(size) + " entries)");
  }
}

void check_version(unsigned int version, unsigned int current, const char* what) {
  if (version < 1 || version > current) {
    throw CallError(DPGCERT_E_VERSION, std::string(what) + " version " + std::to_string(version) +
                                           " is not known to this library (it knows 1 to " +
                                           std::to_string(current) + ")");
  }
}

std::string_view present(const std::optional<std::string>& value, const char* what) {
  if (!value) throw Error(ErrorCode::not_found, std::string("there is no ") + what);
  return *value;
}

int to_c(oces::Generation v) noexcept {
  switch (v) {
    case oces::Generation::none: return DPGCERT_GENERATION_NONE;
    case oces::Generation::oces2: return DPGCERT_GENERATION_OCES2;
    case oces::Generation::oces3: return DPGCERT_GENERATION_OCES3;
    case oces::Generation::oces1: return DPGCERT_GENERATION_OCES1;
  }
  return DPGCERT_GENERATION_NONE;
}

int to_c(oces::CertificateType v) noexcept {
  switch (v) {
    case oces::CertificateType::none: return DPGCERT_TYPE_NONE;
    case oces::CertificateType::voces: return DPGCERT_TYPE_VOCES;
    case oces::CertificateType::foces: return DPGCERT_TYPE_FOCES;
    case oces::CertificateType::moces: return DPGCERT_TYPE_MOCES;
    case oces::CertificateType::poces: return DPGCERT_TYPE_POCES;
    case oces::CertificateType::organisation: return DPGCERT_TYPE_ORGANISATION;
    case oces::CertificateType::employee: return DPGCERT_TYPE_EMPLOYEE;
    case oces::CertificateType::root_ca: return DPGCERT_TYPE_ROOT_CA;
    case oces::CertificateType::issuing_ca: return DPGCERT_TYPE_ISSUING_CA;
  }
  return DPGCERT_TYPE_NONE;
}

int to_c(oces::Environment v) noexcept {
  switch (v) {
    case oces::Environment::unknown: return DPGCERT_ENVIRONMENT_UNKNOWN;
    case oces::Environment::production: return DPGCERT_ENVIRONMENT_PRODUCTION;
    case oces::Environment::test: return DPGCERT_ENVIRONMENT_TEST;
  }
  return DPGCERT_ENVIRONMENT_UNKNOWN;
}

int to_c(CheckStatus v) noexcept {
  switch (v) {
    case CheckStatus::pass: return DPGCERT_CHECK_PASS;
    case CheckStatus::warn: return DPGCERT_CHECK_WARN;
    case CheckStatus::fail: return DPGCERT_CHECK_FAIL;
    case CheckStatus::skip: return DPGCERT_CHECK_SKIP;
  }
  return DPGCERT_CHECK_FAIL;
}

int to_c(CertificateStatus v) noexcept {
  switch (v) {
    case CertificateStatus::active: return DPGCERT_STATUS_ACTIVE;
    case CertificateStatus::superseded: return DPGCERT_STATUS_SUPERSEDED;
    case CertificateStatus::revoked: return DPGCERT_STATUS_REVOKED;
    case CertificateStatus::retired: return DPGCERT_STATUS_RETIRED;
  }
  return DPGCERT_STATUS_RETIRED;
}

int to_c(ImportOutcome v) noexcept {
  switch (v) {
    case ImportOutcome::imported: return DPGCERT_IMPORT_IMPORTED;
    case ImportOutcome::already_present: return DPGCERT_IMPORT_ALREADY_PRESENT;
    case ImportOutcome::refused: return DPGCERT_IMPORT_REFUSED;
  }
  return DPGCERT_IMPORT_REFUSED;
}

int to_c(EventKind v) noexcept {
  switch (v) {
    case EventKind::expiring: return DPGCERT_EVENT_KIND_EXPIRING;
    case EventKind::expired: return DPGCERT_EVENT_KIND_EXPIRED;
    case EventKind::renewed: return DPGCERT_EVENT_KIND_RENEWED;
    case EventKind::revoked: return DPGCERT_EVENT_KIND_REVOKED;
    case EventKind::validation_failed: return DPGCERT_EVENT_KIND_VALIDATION_FAILED;
  }
  return DPGCERT_EVENT_KIND_EXPIRING;
}

int to_c(Severity v) noexcept {
  switch (v) {
    case Severity::none: return DPGCERT_SEVERITY_NONE;
    case Severity::warning: return DPGCERT_SEVERITY_WARNING;
    case Severity::critical: return DPGCERT_SEVERITY_CRITICAL;
  }
  return DPGCERT_SEVERITY_CRITICAL;
}

oces::Environment environment_from_c(int v) {
  switch (v) {
    case DPGCERT_ENVIRONMENT_UNKNOWN: return oces::Environment::unknown;
    case DPGCERT_ENVIRONMENT_PRODUCTION: return oces::Environment::production;
    case DPGCERT_ENVIRONMENT_TEST: return oces::Environment::test;
    default: throw Error(ErrorCode::invalid_argument, "unknown environment " + std::to_string(v));
  }
}

CertificateStatus certificate_status_from_c(int v) {
  switch (v) {
    case DPGCERT_STATUS_ACTIVE: return CertificateStatus::active;
    case DPGCERT_STATUS_SUPERSEDED: return CertificateStatus::superseded;
    case DPGCERT_STATUS_REVOKED: return CertificateStatus::revoked;
    case DPGCERT_STATUS_RETIRED: return CertificateStatus::retired;
    default: throw Error(ErrorCode::invalid_argument, "unknown certificate status " + std::to_string(v));
  }
}

}  // namespace dpgcert::capi

using namespace dpgcert;
using namespace dpgcert::capi;

extern "C" {

const char* dpgcert_version(void) { return DPGCERT_VERSION_STRING; }

int dpgcert_abi_version(void) { return DPGCERT_C_ABI_VERSION; }

const char* dpgcert_error_last(void) { return t_last_error; }

const char* dpgcert_error_name(int code) {
  switch (code) {
    case DPGCERT_OK: return "ok";
    case DPGCERT_E_BAD_PASSWORD:
    case DPGCERT_E_MALFORMED:
    case DPGCERT_E_UNSUPPORTED:
    case DPGCERT_E_LIMIT_EXCEEDED:
    case DPGCERT_E_NOT_FOUND:
    case DPGCERT_E_CONFLICT:
    case DPGCERT_E_IO:
    case DPGCERT_E_INVALID_ARGUMENT:
    case DPGCERT_E_INTERNAL:
    case DPGCERT_E_LOCKED:
      // The names of the library's own codes are the C++ ones, so they can never drift apart.
      return dpgcert::to_string(static_cast<ErrorCode>(-code)).data();
    case DPGCERT_E_NULL_ARGUMENT: return "null_argument";
    case DPGCERT_E_BUFFER_TOO_SMALL: return "buffer_too_small";
    case DPGCERT_E_OUT_OF_RANGE: return "out_of_range";
    case DPGCERT_E_VERSION: return "version";
    default: return "unknown";
  }
}

const char* dpgcert_enum_name(int kind, int value) {
  // The C++ to_string() functions return views of string literals, so .data() is NUL-terminated.
  switch (kind) {
    case DPGCERT_ENUM_GENERATION:
      switch (value) {
        case DPGCERT_GENERATION_NONE: return oces::to_string(oces::Generation::none).data();
        case DPGCERT_GENERATION_OCES2: return oces::to_string(oces::Generation::oces2).data();
        case DPGCERT_GENERATION_OCES3: return oces::to_string(oces::Generation::oces3).data();
        case DPGCERT_GENERATION_OCES1: return oces::to_string(oces::Generation::oces1).data();
        default: return nullptr;
      }
    case DPGCERT_ENUM_CERTIFICATE_TYPE:
      switch (value) {
        case DPGCERT_TYPE_NONE: return oces::to_string(oces::CertificateType::none).data();
        case DPGCERT_TYPE_VOCES: return oces::to_string(oces::CertificateType::voces).data();
        case DPGCERT_TYPE_FOCES: return oces::to_string(oces::CertificateType::foces).data();
        case DPGCERT_TYPE_MOCES: return oces::to_string(oces::CertificateType::moces).data();
        case DPGCERT_TYPE_POCES: return oces::to_string(oces::CertificateType::poces).data();
        case DPGCERT_TYPE_ORGANISATION: return oces::to_string(oces::CertificateType::organisation).data();
        case DPGCERT_TYPE_EMPLOYEE: return oces::to_string(oces::CertificateType::employee).data();
        case DPGCERT_TYPE_ROOT_CA: return oces::to_string(oces::CertificateType::root_ca).data();
        case DPGCERT_TYPE_ISSUING_CA: return oces::to_string(oces::CertificateType::issuing_ca).data();
        default: return nullptr;
      }
    case DPGCERT_ENUM_ENVIRONMENT:
      switch (value) {
        case DPGCERT_ENVIRONMENT_UNKNOWN: return oces::to_string(oces::Environment::unknown).data();
        case DPGCERT_ENVIRONMENT_PRODUCTION: return oces::to_string(oces::Environment::production).data();
        case DPGCERT_ENVIRONMENT_TEST: return oces::to_string(oces::Environment::test).data();
        default: return nullptr;
      }
    case DPGCERT_ENUM_CHECK_STATUS:
      switch (value) {
        case DPGCERT_CHECK_PASS: return to_string(CheckStatus::pass).data();
        case DPGCERT_CHECK_WARN: return to_string(CheckStatus::warn).data();
        case DPGCERT_CHECK_FAIL: return to_string(CheckStatus::fail).data();
        case DPGCERT_CHECK_SKIP: return to_string(CheckStatus::skip).data();
        default: return nullptr;
      }
    case DPGCERT_ENUM_CERTIFICATE_STATUS:
      switch (value) {
        case DPGCERT_STATUS_ACTIVE: return to_string(CertificateStatus::active).data();
        case DPGCERT_STATUS_SUPERSEDED: return to_string(CertificateStatus::superseded).data();
        case DPGCERT_STATUS_REVOKED: return to_string(CertificateStatus::revoked).data();
        case DPGCERT_STATUS_RETIRED: return to_string(CertificateStatus::retired).data();
        default: return nullptr;
      }
    case DPGCERT_ENUM_IMPORT_OUTCOME:
      switch (value) {
        case DPGCERT_IMPORT_IMPORTED: return to_string(ImportOutcome::imported).data();
        case DPGCERT_IMPORT_ALREADY_PRESENT: return to_string(ImportOutcome::already_present).data();
        case DPGCERT_IMPORT_REFUSED: return to_string(ImportOutcome::refused).data();
        default: return nullptr;
      }
    case DPGCERT_ENUM_EVENT_KIND:
      switch (value) {
        case DPGCERT_EVENT_KIND_EXPIRING: return to_string(EventKind::expiring).data();
        case DPGCERT_EVENT_KIND_EXPIRED: return to_string(EventKind::expired).data();
        case DPGCERT_EVENT_KIND_RENEWED: return to_string(EventKind::renewed).data();
        case DPGCERT_EVENT_KIND_REVOKED: return to_string(EventKind::revoked).data();
        case DPGCERT_EVENT_KIND_VALIDATION_FAILED: return to_string(EventKind::validation_failed).data();
        default: return nullptr;
      }
    case DPGCERT_ENUM_SEVERITY:
      switch (value) {
        case DPGCERT_SEVERITY_NONE: return to_string(Severity::none).data();
        case DPGCERT_SEVERITY_WARNING: return to_string(Severity::warning).data();
        case DPGCERT_SEVERITY_CRITICAL: return to_string(Severity::critical).data();
        default: return nullptr;
      }
    default: return nullptr;
  }
}

}  // extern "C"
