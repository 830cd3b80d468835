// Backends by scheme name: a store location "sqlite:PATH" (or a plain path) picks the SQLite
// backend, "postgresql://..." the PostgreSQL one. A backend registers itself from its own source
// file (DPGCERT_REGISTER_STORE_BACKEND); one that is not built in registers a stub saying so.
// Private to the store layer.
#pragma once

#include "store/backend.hpp"

#include <dpgcert/export.hpp>
#include <dpgcert/store.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert::store {

/// A location split into the backend's scheme and what follows it ("sqlite:/x.db" -> "sqlite",
/// "/x.db"; "postgresql://h/db" -> "postgresql", "//h/db"; a plain path -> "sqlite", the path).
struct Location {
  std::string scheme;
  std::string rest;
};

/// How a backend is opened: `create` for Store::create (a new, empty database), else an
/// existing one (Error(not_found) when there is none).
using BackendFactory = std::function<std::unique_ptr<Backend>(const Location& location, const StoreOptions& options,
                                                              bool create)>;

/// Registers a backend under its scheme (replacing one registered before under that name).
void register_backend(std::string scheme, BackendFactory factory);

/// The registered schemes, sorted.
[[nodiscard]] DPGCERT_API std::vector<std::string> registered_backends();

/// Splits options.location (or, when empty, options.path) into scheme and rest. A text starting
/// with a registered scheme and ':', or with any scheme and "://", names a backend; any other
/// text is a path for the SQLite backend. Error(invalid_argument) when both are empty.
[[nodiscard]] Location parse_location(const StoreOptions& options);

/// Opens (or creates) the backend for a location. Error(unsupported) for a scheme no backend
/// is registered under.
[[nodiscard]] std::unique_ptr<Backend> open_backend(const StoreOptions& options, bool create);

/// Registers a backend from a static initialiser of its own source file.
struct BackendRegistration {
  BackendRegistration(std::string scheme, BackendFactory factory) {
    register_backend(std::move(scheme), std::move(factory));
  }
};

}  // namespace dpgcert::store
