// The PostgreSQL backend is not built into this dpgcert (libpq was not found, or
// DPGCERT_WITH_POSTGRESQL=OFF): its schemes are registered so that a "postgresql://" or
// "postgres://" location gets a clear answer instead of being taken for a file name.
#include "store/backend_registry.hpp"

#include <dpgcert/error.hpp>

namespace dpgcert::store {
namespace {

std::unique_ptr<Backend> not_built(const Location&, const StoreOptions&, bool) {
  throw Error(ErrorCode::unsupported, "store: backend 'postgresql' is not built into this dpgcert");
}

const BackendRegistration registration("postgresql", &not_built);
const BackendRegistration alias("postgres", &not_built);  // PostgreSQL's own short form

}  // namespace
}  // namespace dpgcert::store
