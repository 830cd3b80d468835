#include "store/backend_registry.hpp"

#include <dpgcert/error.hpp>

#include <algorithm>
#include <map>
#include <mutex>

namespace dpgcert::store {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, BackendFactory, std::less<>> factories;
};

/// Built on first use, so registrations from any static initialiser find it.
Registry& registry() {
  static Registry r;
  return r;
}

bool is_scheme(std::string_view s) {
  if (s.empty() || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
           c == '.';
  });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

void register_backend(std::string scheme, BackendFactory factory) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.factories[lower(scheme)] = std::move(factory);
}

std::vector<std::string> registered_backends() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  std::vector<std::string> out;
  for (const auto& [name, factory] : r.factories) {
    if (name != "postgres") out.push_back(name);
  }
  return out;
}

Location parse_location(const StoreOptions& options) {
  const std::string text = options.location.empty() ? options.path.string() : options.location;
  if (text.empty()) throw Error(ErrorCode::invalid_argument, "store: no store location given");
  const auto colon = text.find(':');
  if (colon != std::string::npos && is_scheme(std::string_view(text).substr(0, colon))) {
    const std::string scheme = lower(std::string_view(text).substr(0, colon));
    const std::string rest = text.substr(colon + 1);
    bool known = false;
    {
      Registry& r = registry();
      std::lock_guard lock(r.mu);
      known = r.factories.count(scheme) != 0;
    }
    if (known || rest.starts_with("//")) return {scheme, rest};
  }
  return {"sqlite", text};
}

std::unique_ptr<Backend> open_backend(const StoreOptions& options, bool create) {
  const Location location = parse_location(options);
  BackendFactory factory;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    const auto it = r.factories.find(location.scheme);
    if (it != r.factories.end()) factory = it->second;
  }
  if (!factory) {
    throw Error(ErrorCode::unsupported, "store: backend '" + location.scheme + "' is not built into this dpgcert");
  }
  return factory(location, options, create);
}

}  // namespace dpgcert::store
