// The key-wrapper base (key check values) and the registry of wrapper kinds by name.
#include "vault/pkcs11_key_wrapper.hpp"
#include "vault/software_key_wrapper.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/key_wrapper.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <mutex>

namespace dpgcert::vault {
namespace {

// 16 bytes wrapped under the master key: the key check value.
constexpr std::string_view kCheckConstant = "dpgcert-key-chk1";
constexpr std::string_view kCheckContext = "key-check/";

std::span<const std::byte> check_constant() noexcept {
  return std::as_bytes(std::span(kCheckConstant.data(), kCheckConstant.size()));
}

struct Entry {
  KeyWrapperFactory factory;
  bool usable = true;
};

KeyWrapperFactory unavailable(std::string kind) {
  KeyWrapperFactory f;
  f.kind = kind;
  f.summary = "not built into this dpgcert";
  auto fail = [kind] { throw Error(ErrorCode::unsupported, "key wrapper '" + kind + "' is not built into this dpgcert"); };
  f.establish = [fail](const KeySource&) -> std::unique_ptr<KeyWrapper> { fail(); return nullptr; };
  f.reopen = [fail](std::string_view, const Unlock&) -> std::unique_ptr<KeyWrapper> { fail(); return nullptr; };
  return f;
}

class Registry {
 public:
  Registry() {
    // The kinds built into this library: one line each. A kind not compiled in still registers,
    // as a stub that says so.
    add(key_file_wrapper_factory(), true);
    add(passphrase_wrapper_factory(), true);
    add(pkcs11_wrapper_factory(), true);
  }

  void add(KeyWrapperFactory f, bool usable) {
    if (f.kind.empty() || !f.establish || !f.reopen) {
      throw Error(ErrorCode::invalid_argument, "vault: a key wrapper kind needs a name and both factories");
    }
    std::lock_guard lock(mu_);
    auto it = kinds_.find(f.kind);
    if (it != kinds_.end() && it->second.usable) {
      throw Error(ErrorCode::conflict, "vault: key wrapper '" + f.kind + "' is registered already");
    }
    std::string name = f.kind;
    kinds_.insert_or_assign(std::move(name), Entry{std::move(f), usable});
  }

  std::optional<Entry> find(std::string_view kind) const {
    std::lock_guard lock(mu_);
    auto it = kinds_.find(kind);
    if (it == kinds_.end()) return std::nullopt;
    return it->second;
  }

  std::vector<std::string> names(bool usable_only) const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [name, e] : kinds_) {
      if (e.usable || !usable_only) out.push_back(name);
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> kinds_;
};

Registry& registry() {
  static Registry r;
  return r;
}

std::string known_kinds() {
  std::string out;
  for (const auto& k : registry().names(true)) out += (out.empty() ? "" : ", ") + k;
  return out;
}

}  // namespace

KeyWrapper::~KeyWrapper() = default;

std::vector<std::byte> KeyWrapper::check_value() const { return wrap(check_constant(), kCheckContext); }

bool KeyWrapper::matches(std::span<const std::byte> check) const {
  try {
    const SecretBytes opened = unwrap(check, kCheckContext);
    return opened.view() == kCheckConstant;
  } catch (const Error&) {
    return false;
  }
}

void register_key_wrapper(KeyWrapperFactory factory) { registry().add(std::move(factory), true); }

void register_unavailable_key_wrapper(std::string kind) { registry().add(unavailable(std::move(kind)), false); }

std::vector<std::string> key_wrapper_kinds(bool usable_only) { return registry().names(usable_only); }

std::unique_ptr<KeyWrapper> establish_key_wrapper(const KeySource& source) {
  const auto entry = registry().find(source.kind());
  if (!entry) {
    throw Error(ErrorCode::invalid_argument,
                "vault: unknown key wrapper kind '" + source.kind() + "' (known: " + known_kinds() + ")");
  }
  auto wrapper = entry->factory.establish(source);
  if (!wrapper) throw Error(ErrorCode::internal, "vault: key wrapper '" + source.kind() + "' made nothing");
  return wrapper;
}

std::unique_ptr<KeyWrapper> reopen_key_wrapper(std::string_view kind, std::string_view params, const Unlock& unlock) {
  const auto entry = registry().find(kind);
  if (!entry) {
    throw Error(ErrorCode::unsupported, "vault: the master key is held by key wrapper '" + std::string(kind) +
                                            "', which this dpgcert does not know");
  }
  if (entry->usable && !nlohmann::json::parse(params, nullptr, false).is_object()) {
    throw Error(ErrorCode::malformed, "vault: the parameters of key wrapper '" + std::string(kind) +
                                          "' are not a JSON object");
  }
  auto wrapper = entry->factory.reopen(params, unlock);
  if (!wrapper) throw Error(ErrorCode::internal, "vault: key wrapper '" + std::string(kind) + "' made nothing");
  return wrapper;
}

}  // namespace dpgcert::vault
