// Private: the built-in catalogue's files, compiled in from data/oces-ca by src/CMakeLists.txt.
#pragma once

#include <span>
#include <string_view>

namespace dpgcert::oces::detail {

/// One file of data/oces-ca: its name and its text.
struct EmbeddedFile {
  std::string_view name;
  std::string_view content;
};

/// data/oces-ca/catalogue.json.
extern const std::string_view builtin_catalogue_index;
/// Every data/oces-ca/*.pem, sorted by name.
extern const std::span<const EmbeddedFile> builtin_catalogue_files;

}  // namespace dpgcert::oces::detail
