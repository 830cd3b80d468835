// Reading certificates and CRLs from files and folders.
#include "core/file_io.hpp"
#include "validation/validation_impl.hpp"

#include <algorithm>
#include <cctype>

namespace dpgcert {
namespace detail {

std::vector<FoundFile> expand_paths(std::span<const std::filesystem::path> paths,
                                    std::initializer_list<std::string_view> extensions) {
  std::vector<FoundFile> out;
  for (const auto& p : paths) {
    std::error_code ec;
    const auto st = std::filesystem::status(p, ec);
    if (ec || !std::filesystem::exists(st)) {
      throw Error(ErrorCode::io, "cannot read '" + p.string() + "': no such file or folder");
    }
    if (!std::filesystem::is_directory(st)) {
      out.push_back({p, false});
      continue;
    }
    std::vector<std::filesystem::path> found;
    for (const auto& entry : std::filesystem::directory_iterator(p, ec)) {
      if (!entry.is_regular_file()) continue;
      const std::string name = entry.path().filename().string();
      if (name.empty() || name.front() == '.') continue;
      if (std::find(extensions.begin(), extensions.end(), lower_extension(entry.path())) != extensions.end()) {
        found.push_back(entry.path());
      }
    }
    if (ec) throw Error(ErrorCode::io, "cannot list '" + p.string() + "': " + ec.message());
    std::sort(found.begin(), found.end());
    for (auto& f : found) out.push_back({std::move(f), true});
  }
  return out;
}

std::string lower_extension(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

}  // namespace detail

namespace {

/// Loads every file with `load`. A file found in a folder that turns out not to hold the wanted
/// kind (Error(malformed)) is skipped unless its extension is one of `primary` (.crl for CRLs,
/// .crt/.cer for certificates): folders often mix certificates, keys and CRLs under .pem/.der.
template <typename T, typename Load>
std::vector<T> load_all(std::span<const std::filesystem::path> paths, std::initializer_list<std::string_view> extensions,
                        std::initializer_list<std::string_view> primary, const Context& ctx, Load load) {
  std::vector<T> out;
  for (const auto& file : detail::expand_paths(paths, extensions)) {
    const auto data = detail::read_file(file.path, {.limit = ctx.limits().max_input_bytes});
    try {
      auto items = load(data);
      out.insert(out.end(), items.begin(), items.end());
    } catch (const Error& e) {
      const bool skippable = file.in_folder && e.code() == ErrorCode::malformed &&
                             std::find(primary.begin(), primary.end(), detail::lower_extension(file.path)) == primary.end();
      if (skippable) continue;
      throw Error(e.code(), "'" + file.path.string() + "': " + e.what());
    }
  }
  return out;
}

}  // namespace

std::vector<Crl> load_crl_files(std::span<const std::filesystem::path> paths, const Context& ctx) {
  return load_all<Crl>(paths, {".crl", ".pem", ".der"}, {".crl"}, ctx,
                       [&](std::span<const std::byte> data) { return load_crls(data, ctx); });
}

std::vector<Certificate> load_certificate_files(std::span<const std::filesystem::path> paths, const Context& ctx) {
  return load_all<Certificate>(paths, {".pem", ".crt", ".cer", ".der"}, {".crt", ".cer"}, ctx,
                               [&](std::span<const std::byte> data) { return load_certificates(data, ctx); });
}

}  // namespace dpgcert
