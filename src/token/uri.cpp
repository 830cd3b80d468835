// RFC 7512 pkcs11: URIs through p11-kit's parser and formatter.
#include "token/uri_util.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/token.hpp>

#include <p11-kit/uri.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace dpgcert::token {
namespace detail {
namespace {

struct TypeName {
  std::string_view name;
  CK_OBJECT_CLASS klass;
};
constexpr TypeName kTypes[] = {{"private", CKO_PRIVATE_KEY},
                               {"public", CKO_PUBLIC_KEY},
                               {"cert", CKO_CERTIFICATE},
                               {"secret-key", CKO_SECRET_KEY},
                               {"data", CKO_DATA}};

/// A token-info text field as set in a URI: unset fields are all zero bytes in p11-kit.
std::optional<std::string> field_of(const unsigned char* field, std::size_t size) {
  if (field[0] == 0) return std::nullopt;
  return padded(field, size);
}

void set_field(unsigned char* field, std::size_t size, const std::optional<std::string>& value) {
  if (!value) return;
  if (value->size() > size) {
    throw Error(ErrorCode::invalid_argument, "token: '" + *value + "' is longer than the " + std::to_string(size) +
                                                 " characters PKCS#11 allows in that field");
  }
  std::memset(field, ' ', size);
  std::memcpy(field, value->data(), value->size());
}

}  // namespace

std::string padded(const unsigned char* field, std::size_t size) {
  std::string out(reinterpret_cast<const char*>(field), size);
  while (!out.empty() && (out.back() == ' ' || out.back() == '\0')) out.pop_back();
  return out;
}

std::optional<CK_OBJECT_CLASS> class_of_type(std::string_view type) {
  for (const auto& t : kTypes) {
    if (t.name == type) return t.klass;
  }
  return std::nullopt;
}

std::string_view type_of_class(CK_OBJECT_CLASS klass) {
  for (const auto& t : kTypes) {
    if (t.klass == klass) return t.name;
  }
  return "";
}

UriPtr make_uri(const TokenUri& u) {
  UriPtr uri(p11_kit_uri_new());
  if (!uri) throw Error(ErrorCode::internal, "token: out of memory");
  CK_TOKEN_INFO* ti = p11_kit_uri_get_token_info(uri.get());
  set_field(ti->label, sizeof ti->label, u.token_label);
  set_field(ti->serialNumber, sizeof ti->serialNumber, u.serial);
  set_field(ti->manufacturerID, sizeof ti->manufacturerID, u.manufacturer);
  set_field(ti->model, sizeof ti->model, u.model);
  if (u.object_label) {
    CK_ATTRIBUTE a = attr_bytes(CKA_LABEL, u.object_label->data(), u.object_label->size());
    p11_kit_uri_set_attribute(uri.get(), &a);
  }
  if (u.id) {
    CK_ATTRIBUTE a = attr_bytes(CKA_ID, u.id->data(), u.id->size());
    p11_kit_uri_set_attribute(uri.get(), &a);
  }
  if (u.type) {
    auto klass = class_of_type(*u.type);
    if (!klass) throw Error(ErrorCode::invalid_argument, "token: unknown object type '" + *u.type + "'");
    CK_ATTRIBUTE a = attr(CKA_CLASS, *klass);
    p11_kit_uri_set_attribute(uri.get(), &a);
  }
  if (u.module_name) p11_kit_uri_set_module_name(uri.get(), u.module_name->c_str());
  if (u.module_path) p11_kit_uri_set_module_path(uri.get(), u.module_path->c_str());
  return uri;
}

void UriFree::operator()(P11KitUri* u) const noexcept { p11_kit_uri_free(u); }

}  // namespace detail

TokenUri TokenUri::parse(std::string_view text) {
  using namespace detail;
  const std::string s(text);
  UriPtr uri(p11_kit_uri_new());
  if (!uri) throw Error(ErrorCode::internal, "token: out of memory");
  const int rc = p11_kit_uri_parse(s.c_str(), P11_KIT_URI_FOR_ANY, uri.get());
  if (rc != P11_KIT_URI_OK) {
    throw Error(ErrorCode::malformed, std::string("token: not a pkcs11: URI (") + p11_kit_uri_message(rc) + ")");
  }
  if (p11_kit_uri_get_pin_value(uri.get()) != nullptr || p11_kit_uri_get_pin_source(uri.get()) != nullptr) {
    throw Error(ErrorCode::invalid_argument,
                "token: a PIN never goes in a URI; give it with --pin-file, --pin-env or DPGCERT_PIN");
  }
  if (p11_kit_uri_get_slot_id(uri.get()) != static_cast<CK_SLOT_ID>(-1) ||
      p11_kit_uri_get_slot_info(uri.get())->slotDescription[0] != 0) {
    throw Error(ErrorCode::invalid_argument,
                "token: choose the token by its label (token=) or serial (serial=), not by slot: modules renumber slots");
  }
  TokenUri out;
  CK_TOKEN_INFO* ti = p11_kit_uri_get_token_info(uri.get());
  out.token_label = field_of(ti->label, sizeof ti->label);
  out.serial = field_of(ti->serialNumber, sizeof ti->serialNumber);
  out.manufacturer = field_of(ti->manufacturerID, sizeof ti->manufacturerID);
  out.model = field_of(ti->model, sizeof ti->model);
  if (CK_ATTRIBUTE* a = p11_kit_uri_get_attribute(uri.get(), CKA_LABEL)) {
    out.object_label = std::string(static_cast<const char*>(a->pValue), a->ulValueLen);
  }
  if (CK_ATTRIBUTE* a = p11_kit_uri_get_attribute(uri.get(), CKA_ID)) {
    const auto* p = static_cast<const std::byte*>(a->pValue);
    out.id = std::vector<std::byte>(p, p + a->ulValueLen);
  }
  if (CK_ATTRIBUTE* a = p11_kit_uri_get_attribute(uri.get(), CKA_CLASS)) {
    CK_OBJECT_CLASS klass = 0;
    if (a->ulValueLen == sizeof klass) std::memcpy(&klass, a->pValue, sizeof klass);
    const auto name = type_of_class(klass);
    if (name.empty()) throw Error(ErrorCode::invalid_argument, "token: unknown object type in the URI");
    out.type = std::string(name);
  }
  if (const char* m = p11_kit_uri_get_module_name(uri.get())) out.module_name = m;
  if (const char* m = p11_kit_uri_get_module_path(uri.get())) out.module_path = m;
  return out;
}

std::string TokenUri::to_string() const {
  using namespace detail;
  UriPtr uri = make_uri(*this);
  char* text = nullptr;
  const int rc = p11_kit_uri_format(uri.get(), P11_KIT_URI_FOR_ANY, &text);
  if (rc != P11_KIT_URI_OK || text == nullptr) {
    throw Error(ErrorCode::internal, std::string("token: cannot format the URI (") + p11_kit_uri_message(rc) + ")");
  }
  std::string out(text);
  std::free(text);
  return out;
}

TokenUri TokenUri::token_only() const {
  TokenUri out = *this;
  out.object_label.reset();
  out.id.reset();
  out.type.reset();
  return out;
}

}  // namespace dpgcert::token
