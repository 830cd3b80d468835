// What the tool shows about a store's master key, from the key wrapper's kind and parameters.
#pragma once

#include <dpgcert/store.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace dpgcert::cli {

/// The store's key wrapper parameters as JSON (an empty object when they do not parse).
[[nodiscard]] nlohmann::json key_params(const StoreInfo& info);
/// The key file of a "key_file" store.
[[nodiscard]] std::optional<std::string> key_file_of(const StoreInfo& info);
/// {memory_kib, iterations, parallelism} of a "passphrase" store, otherwise null.
[[nodiscard]] nlohmann::json argon2_of(const StoreInfo& info);
/// One line for people: "key file /x/store.key", "passphrase (Argon2id 65536 KiB, t=3, p=1)",
/// or the kind and its parameters.
[[nodiscard]] std::string describe_key(const StoreInfo& info);

}  // namespace dpgcert::cli
