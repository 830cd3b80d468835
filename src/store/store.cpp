// The backend-neutral parts of the store: names, the OS user, choosing a backend.
#include <dpgcert/error.hpp>
#include <dpgcert/store.hpp>

#include "store/schema.hpp"
#include "store/sqlite_store.hpp"

#include <pwd.h>
#include <unistd.h>

#include <vector>

namespace dpgcert {
namespace {

// A location naming another backend (e.g. "postgresql://..."): not available yet.
void refuse_other_backends(const std::filesystem::path& path) {
  const std::string s = path.string();
  if (s.starts_with("postgresql://") || s.starts_with("postgres://")) {
    throw Error(ErrorCode::unsupported, "store: the PostgreSQL backend is not available in this version");
  }
  if (s.empty()) throw Error(ErrorCode::invalid_argument, "store: no store path given");
}

}  // namespace

std::string_view to_string(CertificateStatus status) noexcept {
  switch (status) {
    case CertificateStatus::active: return "active";
    case CertificateStatus::superseded: return "superseded";
    case CertificateStatus::revoked: return "revoked";
    case CertificateStatus::retired: return "retired";
  }
  return "active";
}

std::optional<CertificateStatus> parse_certificate_status(std::string_view text) noexcept {
  if (text == "active") return CertificateStatus::active;
  if (text == "superseded") return CertificateStatus::superseded;
  if (text == "revoked") return CertificateStatus::revoked;
  if (text == "retired") return CertificateStatus::retired;
  return std::nullopt;
}

std::string_view to_string(ImportOutcome outcome) noexcept {
  switch (outcome) {
    case ImportOutcome::imported: return "imported";
    case ImportOutcome::already_present: return "already_present";
    case ImportOutcome::refused: return "refused";
  }
  return "refused";
}

std::string os_user_name() {
  const uid_t uid = ::geteuid();
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  if (size <= 0) size = 16384;
  std::vector<char> buf(static_cast<std::size_t>(size));
  struct passwd pw {};
  struct passwd* result = nullptr;
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &result) == 0 && result != nullptr && result->pw_name != nullptr &&
      *result->pw_name != '\0') {
    return result->pw_name;
  }
  return "uid:" + std::to_string(uid);
}

Store::~Store() = default;

int Store::current_schema_version() noexcept { return sqlite::latest_schema_version(); }

std::unique_ptr<Store> Store::create(StoreOptions options, const vault::KeySource& key) {
  refuse_other_backends(options.path);
  return sqlite::create_store(std::move(options), key);
}

std::unique_ptr<Store> Store::open(StoreOptions options) {
  refuse_other_backends(options.path);
  return sqlite::open_store(std::move(options));
}

}  // namespace dpgcert
