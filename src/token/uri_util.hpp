// p11-kit URI objects made from a TokenUri (private to the token layer).
#pragma once

#include "token/p11.hpp"

#include <p11-kit/uri.h>

#include <memory>
#include <optional>
#include <string_view>

namespace dpgcert::token::detail {

struct UriFree {
  void operator()(P11KitUri* u) const noexcept;
};
using UriPtr = std::unique_ptr<P11KitUri, UriFree>;

/// A p11-kit URI with every field of `u` set, for matching and formatting.
[[nodiscard]] UriPtr make_uri(const TokenUri& u);
/// CKO_* for a URI type name ("cert"), or nothing.
[[nodiscard]] std::optional<CK_OBJECT_CLASS> class_of_type(std::string_view type);
/// The URI type name of a class, or "".
[[nodiscard]] std::string_view type_of_class(CK_OBJECT_CLASS klass);

}  // namespace dpgcert::token::detail
