// The store backends a test run can exercise: every backend registered in this build, with a fresh
// location for each that this environment can provide. Shared by the store conformance suite and
// the process-level (crash, concurrency) tests, so a new backend runs through all of them.
#pragma once

#include "support/test_support.hpp"

#include "store/backend_registry.hpp"
#include "store/pg_test_server.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/store.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace dpgcert::testing {

/// A fresh location for `backend` inside `dir`; std::nullopt for a backend this environment cannot
/// provide (not built in, or no server to run it on).
inline std::optional<std::string> location_for(const std::string& backend, const test::TempDir& dir) {
  if (backend == "sqlite") return "sqlite:" + (dir.path() / "store.db").string();
  if (backend == "postgresql") return postgresql_database();  // a database of its own per call
  return std::nullopt;
}

/// Whether `backend` is built into this dpgcert (a stub refuses every location with
/// Error(unsupported); a real backend fails otherwise on a location that names nothing).
inline bool backend_built(const std::string& backend) {
  StoreOptions o;
  o.location = backend + "://nowhere.invalid:1/dpgcert";
  return test::code_of([&] { (void)Store::open(std::move(o)); }) != ErrorCode::unsupported;
}

/// The registered backends this environment can provide. Every other registered backend must
/// refuse to open with Error(unsupported) (checked here), so a registered stub never goes
/// unnoticed; a backend that is built but has nothing to run on here (no PostgreSQL binaries)
/// is skipped with a message saying why.
inline std::vector<std::string> testable_backends() {
  const std::vector<std::string> backends = store::registered_backends();
  REQUIRE(std::find(backends.begin(), backends.end(), "sqlite") != backends.end());
  std::vector<std::string> out;
  for (const std::string& b : backends) {
    if (b == "sqlite") {
      out.push_back(b);
      continue;
    }
    if (b == "postgresql" && backend_built(b)) {
      std::string why;
      if (postgresql_server(&why)) {
        out.push_back(b);
      } else {
        MESSAGE("postgresql: skipped, no test server: " << why);
      }
      continue;
    }
    StoreOptions o;
    o.location = b + "://nowhere/dpgcert";
    CHECK(test::code_of([&] { (void)Store::open(std::move(o)); }) == ErrorCode::unsupported);
  }
  return out;
}

}  // namespace dpgcert::testing
