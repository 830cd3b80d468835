// The PostgreSQL backend is not built into this dpgcert yet: its scheme is registered so that a
// "postgresql://" location gets a clear answer instead of being taken for a file name.
#include "store/backend_registry.hpp"

#include <dpgcert/error.hpp>

namespace dpgcert::store {
namespace {

const BackendRegistration registration("postgresql",
                                       [](const Location&, const StoreOptions&, bool) -> std::unique_ptr<Backend> {
                                         throw Error(ErrorCode::unsupported,
                                                     "store: backend 'postgresql' is not built into this dpgcert");
                                       });

}  // namespace
}  // namespace dpgcert::store
