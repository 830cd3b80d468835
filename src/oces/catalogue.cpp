#include "core/file_io.hpp"
#include "oces/catalogue_data.hpp"
#include "oces/oces_util.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/oces.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <functional>
#include <iterator>

namespace dpgcert::oces {

struct Catalogue::Impl {
  std::vector<CatalogueEntry> entries;
  std::vector<std::vector<std::byte>> key_ids;  ///< Subject key id of each entry (may be empty).
};

namespace {

bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b) noexcept {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

std::shared_ptr<const Catalogue::Impl> make_impl(std::vector<CatalogueEntry> entries) {
  auto impl = std::make_shared<Catalogue::Impl>();
  impl->key_ids.reserve(entries.size());
  for (const auto& e : entries) {
    (void)e.certificate.subject();  // decode names now, not during the first lookup
    (void)e.certificate.extended_key_usage();  // and the extensions
    const auto ski = detail::subject_key_id(e.certificate);
    impl->key_ids.emplace_back(ski.begin(), ski.end());
  }
  impl->entries = std::move(entries);
  return impl;
}

std::vector<Certificate> select(const std::vector<CatalogueEntry>& entries, CaRole role,
                                std::optional<Generation> generation, std::optional<Environment> environment) {
  std::vector<Certificate> out;
  for (const auto& e : entries) {
    if (e.role != role) continue;
    if (generation && e.generation != *generation) continue;
    if (environment && e.environment != *environment) continue;
    out.push_back(e.certificate);
  }
  return out;
}

std::string json_text(const nlohmann::json& entry, const char* key, std::string_view origin, std::size_t index) {
  const auto it = entry.find(key);
  if (it == entry.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    throw Error(ErrorCode::malformed, std::string(origin) + ": entry " + std::to_string(index) +
                                          " needs a non-empty string \"" + key + "\"");
  }
  return it->get<std::string>();
}

template <typename T>
T json_enum(const nlohmann::json& entry, const char* key, std::optional<T> (*parse)(std::string_view) noexcept,
            std::string_view origin, std::size_t index) {
  const std::string text = json_text(entry, key, origin, index);
  const auto value = parse(text);
  if (!value) {
    throw Error(ErrorCode::malformed, std::string(origin) + ": entry " + std::to_string(index) + " has an unknown " +
                                          key + " \"" + text + "\"");
  }
  return *value;
}

/// Reads a catalogue index; `read` yields a named file's bytes (throwing as it sees fit).
Catalogue parse_index(std::string_view index_text,
                      const std::function<std::vector<std::byte>(const std::string&)>& read, const Context& ctx,
                      std::string_view origin) {
  nlohmann::json index;
  try {
    index = nlohmann::json::parse(index_text.begin(), index_text.end());
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::malformed, std::string(origin) + ": not valid JSON (" + e.what() + ")");
  }
  if (!index.is_object() || !index.contains("entries") || !index["entries"].is_array()) {
    throw Error(ErrorCode::malformed, std::string(origin) + ": needs an object with an \"entries\" array");
  }
  std::vector<CatalogueEntry> entries;
  std::size_t i = 0;
  for (const auto& item : index["entries"]) {
    if (!item.is_object()) {
      throw Error(ErrorCode::malformed, std::string(origin) + ": entry " + std::to_string(i) + " is not an object");
    }
    const std::string file = json_text(item, "file", origin, i);
    if (file.front() == '/' || file.find("..") != std::string::npos || file.find('\\') != std::string::npos) {
      throw Error(ErrorCode::malformed, std::string(origin) + ": entry " + std::to_string(i) +
                                            " names a file outside the catalogue: " + file);
    }
    std::string name = json_text(item, "name", origin, i);
    const auto generation = json_enum<Generation>(item, "generation", &parse_generation, origin, i);
    const auto environment = json_enum<Environment>(item, "environment", &parse_environment, origin, i);
    const auto role = json_enum<CaRole>(item, "role", &parse_ca_role, origin, i);
    const std::vector<std::byte> data = read(file);
    std::vector<Certificate> certs;
    try {
      certs = load_certificates(data, ctx);
    } catch (const Error& e) {
      throw Error(e.code(), std::string(origin) + ": " + file + ": " + e.what());
    }
    if (certs.size() != 1) {
      throw Error(ErrorCode::malformed,
                  std::string(origin) + ": " + file + " must hold exactly one certificate, not " +
                      std::to_string(certs.size()));
    }
    entries.push_back(CatalogueEntry{std::move(name), generation, environment, role, std::move(certs.front())});
    ++i;
  }
  return Catalogue(std::move(entries));
}

Catalogue load_builtin() {
  const auto read = [](const std::string& file) {
    for (const auto& f : detail::builtin_catalogue_files) {
      if (f.name == file) {
        const auto* p = reinterpret_cast<const std::byte*>(f.content.data());
        return std::vector<std::byte>(p, p + f.content.size());
      }
    }
    throw Error(ErrorCode::internal, "built-in OCES catalogue: " + file + " is not embedded");
  };
  try {
    return parse_index(detail::builtin_catalogue_index, read, Context::shared(), "built-in OCES catalogue");
  } catch (const Error& e) {
    if (e.code() == ErrorCode::internal) throw;
    throw Error(ErrorCode::internal, e.what());
  }
}

}  // namespace

CatalogueEntry CatalogueEntry::describe(Certificate ca) {
  const auto& subject = ca.subject();
  const auto guess = detail::guess_ca(subject);
  const std::string* cn = detail::find_attribute(subject, detail::oid_common_name);
  std::string name = cn != nullptr ? *cn : subject.to_string();
  if (guess.environment == Environment::test && !detail::icontains(name, "test")) name += " (test)";
  const CaRole role = ca.is_self_issued() ? CaRole::root : CaRole::issuing;
  return CatalogueEntry{std::move(name), guess.generation, guess.environment, role, std::move(ca)};
}

Catalogue::Catalogue() : impl_(make_impl({})) {}

Catalogue::Catalogue(std::vector<CatalogueEntry> entries) : impl_(make_impl(std::move(entries))) {}

Catalogue Catalogue::from_certificates(std::span<const Certificate> cas) {
  std::vector<CatalogueEntry> entries;
  entries.reserve(cas.size());
  for (const auto& c : cas) entries.push_back(CatalogueEntry::describe(c));
  return Catalogue(std::move(entries));
}

Catalogue Catalogue::load_directory(const std::filesystem::path& dir, const Context& ctx) {
  const auto index_path = dir / "catalogue.json";
  const dpgcert::detail::ReadFileOptions bounded{.limit = ctx.limits().max_input_bytes};
  const auto index = dpgcert::detail::read_file(index_path, bounded);
  const std::string_view text(reinterpret_cast<const char*>(index.data()), index.size());
  const auto read = [&](const std::string& file) { return dpgcert::detail::read_file(dir / file, bounded); };
  return parse_index(text, read, ctx, index_path.string());
}

const Catalogue& Catalogue::builtin() {
  static const Catalogue instance = load_builtin();
  return instance;
}

const std::vector<CatalogueEntry>& Catalogue::entries() const noexcept { return impl_->entries; }
std::size_t Catalogue::size() const noexcept { return impl_->entries.size(); }
bool Catalogue::empty() const noexcept { return impl_->entries.empty(); }

const CatalogueEntry* Catalogue::find(std::string_view name) const noexcept {
  for (const auto& e : impl_->entries) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

const CatalogueEntry* Catalogue::find(const Certificate& cert) const {
  for (const auto& e : impl_->entries) {
    if (e.certificate == cert) return &e;
  }
  return nullptr;
}

const CatalogueEntry* Catalogue::find_by_subject(const DistinguishedName& subject,
                                                 std::span<const std::byte> key_id) const {
  const CatalogueEntry* by_name = nullptr;
  for (std::size_t i = 0; i < impl_->entries.size(); ++i) {
    const auto& e = impl_->entries[i];
    if (e.certificate.subject() != subject) continue;
    const auto& ski = impl_->key_ids[i];
    if (key_id.empty() || ski.empty()) {
      if (by_name == nullptr) by_name = &e;
    } else if (same_bytes(key_id, ski)) {
      return &e;  // same name and same key: this CA
    }
    // Same name, another key: a different CA (e.g. a look-alike test PKI); not a match.
  }
  return by_name;
}

const CatalogueEntry* Catalogue::find_issuer(const Certificate& cert) const {
  return find_by_subject(cert.issuer(), detail::authority_key_id(cert));
}

std::vector<Certificate> Catalogue::anchors(std::optional<Generation> generation,
                                            std::optional<Environment> environment) const {
  return select(impl_->entries, CaRole::root, generation, environment);
}

std::vector<Certificate> Catalogue::intermediates(std::optional<Generation> generation,
                                                  std::optional<Environment> environment) const {
  return select(impl_->entries, CaRole::issuing, generation, environment);
}

}  // namespace dpgcert::oces
