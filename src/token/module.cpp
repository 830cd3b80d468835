// PKCS#11 modules through p11-kit: loaded and initialised once per process, finalised at exit;
// return values mapped to ErrorCode; finding the one token a URI names.
#include "token/p11.hpp"
#include "token/uri_util.hpp"

#include <p11-kit/p11-kit.h>

#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <map>

namespace dpgcert::token::detail {
namespace {

struct RvName {
  CK_RV rv;
  const char* name;
};
constexpr RvName kRvNames[] = {
    {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
    {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
    {CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE"},
    {CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID"},
    {CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID"},
    {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
    {CKR_ENCRYPTED_DATA_INVALID, "CKR_ENCRYPTED_DATA_INVALID"},
    {CKR_ENCRYPTED_DATA_LEN_RANGE, "CKR_ENCRYPTED_DATA_LEN_RANGE"},
    {CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT"},
    {CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED"},
    {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
    {CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID"},
    {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
    {CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE"},
    {CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED"},
    {CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
    {CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
    {CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE"},
    {CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT"},
    {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
    {CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED"},
    {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
    {CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED"},
    {CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED"},
    {CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE"},
    {CKR_DATA_INVALID, "CKR_DATA_INVALID"},
};

struct ModuleHolder;

/// The modules this process initialised, finalised by an exit handler registered after each
/// initialisation: it runs before the static destructors of any module loaded until then (a module's
/// C_Finalize after its own statics are gone crashes, as SoftHSM 2.6's does).
std::mutex g_initialised_mu;
std::vector<ModuleHolder*> g_initialised;

void finalize_at_exit();

/// Finalises (when it initialised it and the exit handler has not) and releases a module.
struct ModuleHolder {
  Module module;
  bool initialised = false;
  std::once_flag once;
  CK_RV init_rv = CKR_OK;
  ~ModuleHolder() {
    {
      std::lock_guard lock(g_initialised_mu);
      std::erase(g_initialised, this);
      if (initialised) p11_kit_module_finalize(module.functions);
      initialised = false;
    }
    p11_kit_module_release(module.functions);
  }
};

void finalize_at_exit() {
  std::lock_guard lock(g_initialised_mu);
  for (ModuleHolder* h : g_initialised) {
    if (h->initialised) p11_kit_module_finalize(h->module.functions);
    h->initialised = false;
  }
  g_initialised.clear();
}

/// Every module this process has loaded, by file name; cleared at exit, which finalises them
/// once the last session on each has closed.
class Cache {
 public:
  std::shared_ptr<ModuleHolder> by_path(const std::string& path) {
    std::lock_guard lock(mu_);
    if (auto it = by_path_.find(path); it != by_path_.end()) return it->second;
    CK_FUNCTION_LIST* f = p11_kit_module_load(path.c_str(), 0);
    if (f == nullptr) {
      throw Error(ErrorCode::not_found, "token: the PKCS#11 module '" + path + "' does not load: " +
                                            (p11_kit_message() != nullptr ? p11_kit_message() : "unknown reason"));
    }
    auto holder = std::make_shared<ModuleHolder>();
    holder->module.functions = f;
    holder->module.file = path;
    if (char* name = p11_kit_module_get_name(f)) {
      holder->module.name = name;
      std::free(name);
    }
    by_path_.emplace(path, holder);
    return holder;
  }

  std::vector<std::shared_ptr<ModuleHolder>> registered() {
    std::lock_guard lock(mu_);
    if (!registered_loaded_) {
      registered_loaded_ = true;
      CK_FUNCTION_LIST** list = p11_kit_modules_load(nullptr, 0);
      for (CK_FUNCTION_LIST** p = list; p != nullptr && *p != nullptr; ++p) {
        auto holder = std::make_shared<ModuleHolder>();
        holder->module.functions = *p;
        if (char* name = p11_kit_module_get_name(*p)) {
          holder->module.name = name;
          std::free(name);
        }
        if (char* file = p11_kit_module_get_filename(*p)) {
          holder->module.file = file;
          std::free(file);
        }
        registered_.push_back(holder);
      }
      std::free(list);  // the modules themselves are released one by one by their holders
    }
    return registered_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<ModuleHolder>> by_path_;
  std::vector<std::shared_ptr<ModuleHolder>> registered_;
  bool registered_loaded_ = false;
};

Cache& cache() {
  static Cache c;
  return c;
}

/// The module initialised (once); Error(io) when it refuses.
std::shared_ptr<const Module> initialised(const std::shared_ptr<ModuleHolder>& h) {
  std::call_once(h->once, [&] {
    h->init_rv = p11_kit_module_initialize(h->module.functions);
    if (h->init_rv != CKR_OK) return;
    std::lock_guard lock(g_initialised_mu);
    h->initialised = true;
    g_initialised.push_back(h.get());
    std::atexit(&finalize_at_exit);
  });
  check_rv(h->init_rv, "initialise the PKCS#11 module '" + h->module.file + "'");
  return {h, &h->module};  // shares ownership with the holder
}

TokenInfo info_of(const Module& m, const CK_TOKEN_INFO& ti) {
  TokenInfo out;
  out.label = padded(ti.label, sizeof ti.label);
  out.serial = padded(ti.serialNumber, sizeof ti.serialNumber);
  out.manufacturer = padded(ti.manufacturerID, sizeof ti.manufacturerID);
  out.model = padded(ti.model, sizeof ti.model);
  out.module = m.name.empty() ? m.file : m.name;
  out.login_required = (ti.flags & CKF_LOGIN_REQUIRED) != 0;
  out.pin_locked = (ti.flags & CKF_USER_PIN_LOCKED) != 0;
  out.pin_final_try = (ti.flags & CKF_USER_PIN_FINAL_TRY) != 0;
  TokenUri u;
  u.token_label = out.label;
  u.serial = out.serial;
  u.manufacturer = out.manufacturer;
  u.model = out.model;
  out.uri = u.to_string();
  return out;
}

struct Found {
  std::shared_ptr<const Module> module;
  CK_SLOT_ID slot = 0;
  TokenInfo info;
};

std::vector<Found> matching_tokens(const TokenUri& uri) {
  const UriPtr p11uri = make_uri(uri.token_only());
  std::vector<Found> out;
  for (const auto& m : modules_for(uri)) {
    CK_ULONG n = 0;
    CK_RV rv = m->functions->C_GetSlotList(CK_TRUE, nullptr, &n);
    check_rv(rv, "list the slots of '" + m->file + "'");
    std::vector<CK_SLOT_ID> slots(n);
    if (n > 0) check_rv(m->functions->C_GetSlotList(CK_TRUE, slots.data(), &n), "list the slots of '" + m->file + "'");
    slots.resize(n);
    for (const CK_SLOT_ID slot : slots) {
      CK_TOKEN_INFO ti{};
      if (m->functions->C_GetTokenInfo(slot, &ti) != CKR_OK) continue;  // removed meanwhile
      if (p11_kit_uri_match_token_info(p11uri.get(), &ti) == 1) out.push_back({m, slot, info_of(*m, ti)});
    }
  }
  return out;
}

std::string describe(const TokenUri& uri) {
  if (uri.token_label) return "token '" + *uri.token_label + "'";
  if (uri.serial) return "the token with serial '" + *uri.serial + "'";
  return "a token";
}

}  // namespace

std::string rv_name(CK_RV rv) {
  for (const auto& n : kRvNames) {
    if (n.rv == rv) return n.name;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "CKR 0x%lx", static_cast<unsigned long>(rv));
  return buf;
}

void throw_rv(CK_RV rv, std::string_view what) {
  std::string msg = "token: cannot ";
  msg += what;
  msg += ": ";
  msg += rv_name(rv);
  switch (rv) {
    case CKR_PIN_INCORRECT:
    case CKR_PIN_LEN_RANGE: throw Error(ErrorCode::bad_password, msg + " (the PIN is wrong)");
    case CKR_PIN_LOCKED: throw Error(ErrorCode::locked, msg + " (the PIN is locked; the security officer must reset it)");
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_DEVICE_REMOVED: throw Error(ErrorCode::not_found, msg + " (the token is not present)");
    case CKR_MECHANISM_INVALID:
    case CKR_MECHANISM_PARAM_INVALID:
    case CKR_FUNCTION_NOT_SUPPORTED: throw Error(ErrorCode::unsupported, msg + " (the token does not support it)");
    case CKR_ENCRYPTED_DATA_INVALID:
    case CKR_ENCRYPTED_DATA_LEN_RANGE: throw Error(ErrorCode::bad_password, msg + " (it does not decrypt under this key)");
    case CKR_ATTRIBUTE_SENSITIVE: throw Error(ErrorCode::invalid_argument, msg + " (the attribute is sensitive)");
    case CKR_USER_NOT_LOGGED_IN: throw Error(ErrorCode::invalid_argument, msg + " (not logged in: a PIN is needed)");
    default: throw Error(ErrorCode::io, msg);
  }
}

std::vector<std::shared_ptr<const Module>> modules_for(const TokenUri& uri) {
  std::vector<std::shared_ptr<const Module>> out;
  if (uri.module_path) {
    out.push_back(initialised(cache().by_path(*uri.module_path)));
    return out;
  }
  const auto all = cache().registered();
  if (uri.module_name) {
    for (const auto& h : all) {
      if (h->module.name == *uri.module_name) return {initialised(h)};
    }
    throw Error(ErrorCode::not_found, "token: no PKCS#11 module '" + *uri.module_name +
                                          "' is registered with p11-kit (see 'p11-kit list-modules')");
  }
  for (const auto& h : all) {
    try {
      out.push_back(initialised(h));
    } catch (const Error&) {
      // A registered module that does not initialise (no reader daemon) holds no token we can use.
    }
  }
  return out;
}

std::shared_ptr<Session> open_session(const TokenUri& uri) {
  if (!uri.names_token()) {
    throw Error(ErrorCode::invalid_argument, "token: the URI '" + uri.to_string() +
                                                 "' names no token: give token=LABEL or serial=SERIAL");
  }
  auto found = matching_tokens(uri);
  if (found.empty()) {
    throw Error(ErrorCode::not_found, "token: " + describe(uri) + " is not present" +
                                          (uri.module_name || uri.module_path ? "" : " in any module registered with p11-kit"));
  }
  if (found.size() > 1) {
    std::string serials;
    for (const auto& f : found) serials += (serials.empty() ? "" : ", ") + f.info.serial;
    throw Error(ErrorCode::conflict, "token: " + std::to_string(found.size()) + " tokens match " + describe(uri) +
                                         " (serials " + serials + "): add serial= to the URI");
  }
  Found& f = found.front();
  CK_SESSION_HANDLE h = 0;
  check_rv(f.module->functions->C_OpenSession(f.slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &h),
           "open a session on " + describe(uri));
  return std::make_shared<Session>(f.module, f.slot, h, std::move(f.info));
}

}  // namespace dpgcert::token::detail

namespace dpgcert::token {

std::vector<TokenInfo> find_tokens(const TokenUri& uri) {
  std::vector<TokenInfo> out;
  for (auto& f : detail::matching_tokens(uri)) out.push_back(std::move(f.info));
  return out;
}

}  // namespace dpgcert::token
