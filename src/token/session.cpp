// Sessions on a token: login, finding objects, attributes, creating and destroying objects, and
// the one-shot cryptographic calls.
#include "token/p11.hpp"
#include "token/uri_util.hpp"

#include <openssl/crypto.h>

namespace dpgcert::token::detail {
namespace {

/// An output buffer sized by a first call with a null pointer (PKCS#11's two-call convention).
template <class Call>
std::vector<unsigned char> two_call(Call&& call, std::string_view what) {
  CK_ULONG n = 0;
  check_rv(call(nullptr, &n), what);
  std::vector<unsigned char> out(n);
  check_rv(call(out.data(), &n), what);
  out.resize(n);
  return out;
}

}  // namespace

Session::~Session() {
  if (module_ && module_->functions != nullptr) module_->functions->C_CloseSession(handle_);
}

void Session::login(const PinSource& pin) {
  CK_TOKEN_INFO ti{};
  check_rv(f().C_GetTokenInfo(slot_, &ti), "read the token information of '" + info_.label + "'");
  if ((ti.flags & CKF_LOGIN_REQUIRED) == 0) return;
  CK_SESSION_INFO si{};
  check_rv(f().C_GetSessionInfo(handle_, &si), "read the session state");
  if (si.state == CKS_RW_USER_FUNCTIONS || si.state == CKS_RO_USER_FUNCTIONS) return;
  if ((ti.flags & CKF_USER_PIN_LOCKED) != 0) {
    throw Error(ErrorCode::locked, "token: the user PIN of token '" + info_.label +
                                       "' is locked (too many wrong tries); the security officer must reset it");
  }
  CK_RV rv = CKR_OK;
  if ((ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0 && !pin.pin) {
    rv = f().C_Login(handle_, CKU_USER, nullptr, 0);  // the PIN pad of the reader
  } else {
    SecretBytes prompted;
    const SecretBytes* p = pin.pin ? &*pin.pin : nullptr;
    if (p == nullptr && pin.prompt) {
      prompted = pin.prompt(info_.label);
      p = &prompted;
    }
    if (p == nullptr || p->empty()) {
      throw Error(ErrorCode::invalid_argument, "token: token '" + info_.label +
                                                   "' needs the user PIN: give --pin-file, --pin-env or DPGCERT_PIN");
    }
    rv = f().C_Login(handle_, CKU_USER, reinterpret_cast<CK_UTF8CHAR*>(const_cast<std::byte*>(p->data())), p->size());
  }
  if (rv == CKR_USER_ALREADY_LOGGED_IN) return;  // another session of this process logged in
  check_rv(rv, "log in to token '" + info_.label + "'");
}

std::vector<CK_OBJECT_HANDLE> Session::find(const TokenUri& uri, std::span<const CK_ATTRIBUTE> extra,
                                            std::size_t limit) const {
  std::vector<CK_ATTRIBUTE> tmpl(extra.begin(), extra.end());
  CK_OBJECT_CLASS klass = 0;
  if (uri.object_label) tmpl.push_back(attr_bytes(CKA_LABEL, uri.object_label->data(), uri.object_label->size()));
  if (uri.id) tmpl.push_back(attr_bytes(CKA_ID, uri.id->data(), uri.id->size()));
  if (uri.type) {
    const auto k = class_of_type(*uri.type);
    if (!k) throw Error(ErrorCode::invalid_argument, "token: unknown object type '" + *uri.type + "'");
    klass = *k;
    tmpl.push_back(attr(CKA_CLASS, klass));
  }
  check_rv(f().C_FindObjectsInit(handle_, tmpl.empty() ? nullptr : tmpl.data(), tmpl.size()), "search the token");
  std::vector<CK_OBJECT_HANDLE> out(limit);
  CK_ULONG n = 0;
  const CK_RV rv = f().C_FindObjects(handle_, out.data(), out.size(), &n);
  f().C_FindObjectsFinal(handle_);
  check_rv(rv, "search the token");
  out.resize(n);
  return out;
}

CK_OBJECT_HANDLE Session::find_one(const TokenUri& uri, std::span<const CK_ATTRIBUTE> extra,
                                   std::string_view what) const {
  const auto found = find(uri, extra, 2);
  if (found.empty()) {
    throw Error(ErrorCode::not_found, "token: no " + std::string(what) + " on token '" + info_.label + "' matches '" +
                                          uri.to_string() + "'");
  }
  if (found.size() > 1) {
    throw Error(ErrorCode::conflict, "token: several objects (" + std::string(what) + ") on token '" + info_.label +
                                         "' match '" + uri.to_string() + "': add id= to the URI");
  }
  return found.front();
}

CK_RV Session::probe_attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) const {
  CK_ATTRIBUTE a{type, nullptr, 0};
  return f().C_GetAttributeValue(handle_, object, &a, 1);
}

AttributeValue Session::attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) const {
  CK_ATTRIBUTE a{type, nullptr, 0};
  CK_RV rv = f().C_GetAttributeValue(handle_, object, &a, 1);
  if (rv == CKR_ATTRIBUTE_TYPE_INVALID || a.ulValueLen == CK_UNAVAILABLE_INFORMATION) return {};
  check_rv(rv, "read an attribute");
  AttributeValue out;
  out.present = true;
  out.bytes.resize(a.ulValueLen);
  a.pValue = out.bytes.data();
  check_rv(f().C_GetAttributeValue(handle_, object, &a, 1), "read an attribute");
  out.bytes.resize(a.ulValueLen);
  return out;
}

bool Session::flag(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) const {
  const auto v = attribute(object, type);
  return v.present && v.bytes.size() == sizeof(CK_BBOOL) && v.bytes[0] != CK_FALSE;
}

CK_OBJECT_HANDLE Session::create(std::span<CK_ATTRIBUTE> tmpl, std::string_view what) const {
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  const CK_RV rv = f().C_CreateObject(handle_, tmpl.data(), tmpl.size(), &h);
  if (rv != CKR_OK) {
    // SoftHSM 2.6 can leave a half-made object behind a failed C_CreateObject: roll back by handle.
    if (h != CK_INVALID_HANDLE) destroy(h);
    throw_rv(rv, "create the " + std::string(what) + " on token '" + info_.label + "'");
  }
  return h;
}

void Session::destroy(CK_OBJECT_HANDLE object) const noexcept { f().C_DestroyObject(handle_, object); }

std::vector<std::byte> Session::encrypt(CK_MECHANISM& mechanism, CK_OBJECT_HANDLE key,
                                        std::span<const std::byte> in) const {
  check_rv(f().C_EncryptInit(handle_, &mechanism, key), "start an encryption");
  // One call with a buffer large enough for any padding or tag: a failed first call would end the
  // operation on some tokens.
  std::vector<std::byte> out(in.size() + 1024);
  CK_ULONG n = out.size();
  check_rv(f().C_Encrypt(handle_, reinterpret_cast<CK_BYTE*>(const_cast<std::byte*>(in.data())), in.size(),
                         reinterpret_cast<CK_BYTE*>(out.data()), &n),
           "encrypt");
  out.resize(n);
  return out;
}

SecretBytes Session::decrypt(CK_MECHANISM& mechanism, CK_OBJECT_HANDLE key, std::span<const std::byte> in) const {
  const CK_RV init = f().C_DecryptInit(handle_, &mechanism, key);
  // SoftHSM 2.6 answers CKR_ARGUMENTS_BAD to OAEP parameters it does not support (SHA-256): the
  // token refuses the mechanism, which is not the ciphertext's fault.
  if (init == CKR_ARGUMENTS_BAD) {
    throw Error(ErrorCode::unsupported, "token: cannot start a decryption: CKR_ARGUMENTS_BAD (token '" + info_.label +
                                            "' does not support the mechanism's parameters)");
  }
  check_rv(init, "start a decryption");
  SecretBytes out = SecretBytes::zeroed(in.size() + 64);
  CK_ULONG n = out.size();
  check_rv(f().C_Decrypt(handle_, reinterpret_cast<CK_BYTE*>(const_cast<std::byte*>(in.data())), in.size(),
                         reinterpret_cast<CK_BYTE*>(out.data()), &n),
           "decrypt");
  return SecretBytes(out.bytes().first(n));
}

std::vector<std::byte> Session::sign(CK_MECHANISM& mechanism, CK_OBJECT_HANDLE key,
                                     std::span<const std::byte> in) const {
  check_rv(f().C_SignInit(handle_, &mechanism, key), "start a signature");
  const auto sig = two_call(
      [&](CK_BYTE* out, CK_ULONG* n) {
        return f().C_Sign(handle_, reinterpret_cast<CK_BYTE*>(const_cast<std::byte*>(in.data())), in.size(), out, n);
      },
      "sign");
  const auto* p = reinterpret_cast<const std::byte*>(sig.data());
  return {p, p + sig.size()};
}

CK_OBJECT_HANDLE Session::generate_key(CK_MECHANISM& mechanism, std::span<CK_ATTRIBUTE> tmpl) const {
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  check_rv(f().C_GenerateKey(handle_, &mechanism, tmpl.data(), tmpl.size(), &h),
           "generate a key on token '" + info_.label + "'");
  return h;
}

std::string Session::object_uri(std::span<const unsigned char> id, std::string_view label, std::string_view type) const {
  TokenUri u;
  u.token_label = info_.label;
  u.serial = info_.serial;
  if (!id.empty()) {
    const auto* p = reinterpret_cast<const std::byte*>(id.data());
    u.id = std::vector<std::byte>(p, p + id.size());
  }
  if (!label.empty()) u.object_label = std::string(label);
  if (!type.empty()) u.type = std::string(type);
  return u.to_string();
}

}  // namespace dpgcert::token::detail
