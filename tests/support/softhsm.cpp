#include "support/softhsm.hpp"

#include <p11-kit/p11-kit.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <stdexcept>

#include <unistd.h>

namespace dpgcert::test {
namespace {

namespace fs = std::filesystem;

/// The process's SoftHSM2 folder (config and tokens), made once and removed at exit.
struct HsmHome {
  fs::path dir;
  HsmHome() {
    dir = fs::temp_directory_path() / ("dpgcert-softhsm-" + std::to_string(::getpid()));
    fs::create_directories(dir / "tokens");
    std::ofstream(dir / "softhsm2.conf") << "directories.tokendir = " << (dir / "tokens").string()
                                          << "\nobjectstore.backend = file\nlog.level = ERROR\n";
    ::setenv("SOFTHSM2_CONF", (dir / "softhsm2.conf").c_str(), 1);
  }
  ~HsmHome() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

HsmHome& home() {
  static HsmHome h;
  return h;
}

}  // namespace

std::optional<fs::path> softhsm_module() {
  for (const char* p : {"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"}) {
    std::error_code ec;
    if (fs::exists(p, ec) && fs::exists("/usr/bin/softhsm2-util", ec)) return fs::path(p);
  }
  return std::nullopt;
}

fs::path SoftHsmToken::config() { return home().dir / "softhsm2.conf"; }

namespace {

/// SoftHSM2 loaded into the test process through p11-kit (managed: the library's own use of the
/// module shares the one initialisation). SoftHSM reads its token folder once, when initialised,
/// so tokens for this process are made through the API, in its free slot; a child process (the
/// tool) finds them in the folder.
struct HsmModule {
  CK_FUNCTION_LIST* f = nullptr;
  HsmModule() {
    (void)home();
    f = p11_kit_module_load(softhsm_module()->c_str(), 0);
    if (f == nullptr || p11_kit_module_initialize(f) != CKR_OK) throw std::runtime_error("cannot initialise SoftHSM2");
  }
  ~HsmModule() {
    p11_kit_module_finalize(f);
    p11_kit_module_release(f);
  }
};

HsmModule& module() {
  static HsmModule m;
  return m;
}

void check(CK_RV rv, const char* what) {
  if (rv != CKR_OK) throw std::runtime_error(std::string("SoftHSM2: ") + what + " failed: " + std::to_string(rv));
}

std::string unpadded(const unsigned char* p, std::size_t n) {
  std::string s(reinterpret_cast<const char*>(p), n);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

std::string SoftHsmToken::init_token(const std::string& label) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  CK_FUNCTION_LIST* f = module().f;
  CK_ULONG n = 0;
  check(f->C_GetSlotList(CK_FALSE, nullptr, &n), "C_GetSlotList");
  std::vector<CK_SLOT_ID> slots(n);
  check(f->C_GetSlotList(CK_FALSE, slots.data(), &n), "C_GetSlotList");
  for (CK_ULONG i = 0; i < n; ++i) {
    CK_TOKEN_INFO ti{};
    if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK || (ti.flags & CKF_TOKEN_INITIALIZED) != 0) continue;
    unsigned char padded_label[32];
    std::memset(padded_label, ' ', sizeof padded_label);
    std::memcpy(padded_label, label.data(), std::min(label.size(), sizeof padded_label));
    std::string so = "12345678";
    std::string user = kTestPin;
    check(f->C_InitToken(slots[i], reinterpret_cast<CK_UTF8CHAR*>(so.data()), so.size(), padded_label), "C_InitToken");
    CK_SESSION_HANDLE h = 0;
    check(f->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &h), "C_OpenSession");
    check(f->C_Login(h, CKU_SO, reinterpret_cast<CK_UTF8CHAR*>(so.data()), so.size()), "C_Login(SO)");
    check(f->C_InitPIN(h, reinterpret_cast<CK_UTF8CHAR*>(user.data()), user.size()), "C_InitPIN");
    f->C_Logout(h);
    f->C_CloseSession(h);
    check(f->C_GetTokenInfo(slots[i], &ti), "C_GetTokenInfo");
    return unpadded(ti.serialNumber, sizeof ti.serialNumber);
  }
  throw std::runtime_error("SoftHSM2 has no free slot");
}

SoftHsmToken::KeyFacts SoftHsmToken::key_facts(const std::string& object_label, unsigned long klass,
                                               unsigned long secret_attribute) const {
  CK_FUNCTION_LIST* f = module().f;
  CK_ULONG n = 0;
  check(f->C_GetSlotList(CK_TRUE, nullptr, &n), "C_GetSlotList");
  std::vector<CK_SLOT_ID> slots(n);
  check(f->C_GetSlotList(CK_TRUE, slots.data(), &n), "C_GetSlotList");
  KeyFacts out;
  for (CK_ULONG i = 0; i < n; ++i) {
    CK_TOKEN_INFO ti{};
    if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK || unpadded(ti.serialNumber, sizeof ti.serialNumber) != serial_) continue;
    CK_SESSION_HANDLE h = 0;
    check(f->C_OpenSession(slots[i], CKF_SERIAL_SESSION, nullptr, nullptr, &h), "C_OpenSession");
    std::string user = kTestPin;
    const CK_RV login = f->C_Login(h, CKU_USER, reinterpret_cast<CK_UTF8CHAR*>(user.data()), user.size());
    if (login != CKR_OK && login != CKR_USER_ALREADY_LOGGED_IN) check(login, "C_Login");
    CK_OBJECT_CLASS k = klass;
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &k, sizeof k},
                           {CKA_LABEL, const_cast<char*>(object_label.data()), object_label.size()}};
    check(f->C_FindObjectsInit(h, tmpl, 2), "C_FindObjectsInit");
    CK_OBJECT_HANDLE obj = 0;
    CK_ULONG found = 0;
    f->C_FindObjects(h, &obj, 1, &found);
    f->C_FindObjectsFinal(h);
    if (found == 1) {
      out.found = true;
      CK_BBOOL sensitive = CK_FALSE;
      CK_BBOOL extractable = CK_TRUE;
      CK_ATTRIBUTE flags[] = {{CKA_SENSITIVE, &sensitive, sizeof sensitive}, {CKA_EXTRACTABLE, &extractable, sizeof extractable}};
      check(f->C_GetAttributeValue(h, obj, flags, 2), "C_GetAttributeValue");
      out.sensitive = sensitive == CK_TRUE;
      out.extractable = extractable == CK_TRUE;
      CK_ATTRIBUTE secret{secret_attribute, nullptr, 0};
      out.value_rv = f->C_GetAttributeValue(h, obj, &secret, 1);
    }
    f->C_CloseSession(h);
    return out;
  }
  return out;
}

void SoftHsmToken::create_aes_key(const std::string& object_label, std::span<const std::byte> value) const {
  if (value.size() != 32) throw std::runtime_error("create_aes_key: an AES-256 key has 32 bytes");
  CK_FUNCTION_LIST* f = module().f;
  CK_ULONG n = 0;
  check(f->C_GetSlotList(CK_TRUE, nullptr, &n), "C_GetSlotList");
  std::vector<CK_SLOT_ID> slots(n);
  check(f->C_GetSlotList(CK_TRUE, slots.data(), &n), "C_GetSlotList");
  for (CK_ULONG i = 0; i < n; ++i) {
    CK_TOKEN_INFO ti{};
    if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK || unpadded(ti.serialNumber, sizeof ti.serialNumber) != serial_) continue;
    CK_SESSION_HANDLE h = 0;
    check(f->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &h), "C_OpenSession");
    std::string user = kTestPin;
    const CK_RV login = f->C_Login(h, CKU_USER, reinterpret_cast<CK_UTF8CHAR*>(user.data()), user.size());
    if (login != CKR_OK && login != CKR_USER_ALREADY_LOGGED_IN) {
      f->C_CloseSession(h);
      check(login, "C_Login");
    }
    CK_OBJECT_CLASS klass = CKO_SECRET_KEY;
    CK_KEY_TYPE type = CKK_AES;
    CK_BBOOL yes = CK_TRUE;
    CK_BBOOL no = CK_FALSE;
    const std::string id = "known-" + object_label;
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &klass, sizeof klass},
                           {CKA_KEY_TYPE, &type, sizeof type},
                           {CKA_TOKEN, &yes, sizeof yes},
                           {CKA_PRIVATE, &yes, sizeof yes},
                           {CKA_SENSITIVE, &yes, sizeof yes},
                           {CKA_EXTRACTABLE, &no, sizeof no},
                           {CKA_ENCRYPT, &yes, sizeof yes},
                           {CKA_DECRYPT, &yes, sizeof yes},
                           {CKA_LABEL, const_cast<char*>(object_label.data()), object_label.size()},
                           {CKA_ID, const_cast<char*>(id.data()), id.size()},
                           {CKA_VALUE, const_cast<std::byte*>(value.data()), value.size()}};
    CK_OBJECT_HANDLE obj = 0;
    const CK_RV rv = f->C_CreateObject(h, tmpl, sizeof tmpl / sizeof tmpl[0], &obj);
    f->C_CloseSession(h);
    check(rv, "C_CreateObject");
    return;
  }
  throw std::runtime_error("SoftHSM2: no token with serial " + serial_);
}

SoftHsmToken::SoftHsmToken(const std::string& name) {
  static std::atomic<int> counter{0};
  label_ = name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  if (label_.size() > 32) label_ = label_.substr(label_.size() - 32);
  serial_ = init_token(label_);
}

SoftHsmToken::~SoftHsmToken() = default;  // the process's token folder goes at exit

}  // namespace dpgcert::test
