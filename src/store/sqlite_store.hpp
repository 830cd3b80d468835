// The SQLite backend of the store. Private to the store layer.
#pragma once

#include <dpgcert/store.hpp>

#include <memory>

namespace dpgcert::sqlite {

/// Creates a new SQLite store (see Store::create).
[[nodiscard]] std::unique_ptr<Store> create_store(StoreOptions options, const vault::KeySource& key);
/// Opens an existing SQLite store (see Store::open).
[[nodiscard]] std::unique_ptr<Store> open_store(StoreOptions options);

}  // namespace dpgcert::sqlite
