// The store backends a test run can exercise: every backend registered in this build, with a fresh
// location for each that this environment can provide. Shared by the store conformance suite and
// the process-level (crash, concurrency) tests, so a new backend runs through all of them.
#pragma once

#include "support/test_support.hpp"

#include "store/backend_registry.hpp"

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
  return std::nullopt;
}

/// The registered backends this environment can provide. Every other registered backend must
/// refuse to open with Error(unsupported) (checked here), so a registered stub never goes unnoticed.
inline std::vector<std::string> testable_backends() {
  const std::vector<std::string> backends = store::registered_backends();
  REQUIRE(std::find(backends.begin(), backends.end(), "sqlite") != backends.end());
  std::vector<std::string> out;
  for (const std::string& b : backends) {
    test::TempDir dir;
    if (location_for(b, dir)) {
      out.push_back(b);
      continue;
    }
    StoreOptions o;
    o.location = b + "://nowhere/dpgcert";
    CHECK(test::code_of([&] { (void)Store::open(std::move(o)); }) == ErrorCode::unsupported);
  }
  return out;
}

}  // namespace dpgcert::testing
