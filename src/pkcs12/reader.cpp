// Reading PKCS#12: framing and limits first, then the MAC, then decryption, bag by bag.
#include "core/der.hpp"
#include "core/file_io.hpp"
#include "pkcs12/bmp_string.hpp"
#include "pkcs12/bundle_impl.hpp"
#include "x509/certificate_impl.hpp"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/proverr.h>

#include <algorithm>
#include <climits>
#include <cctype>

namespace dpgcert {
namespace {

using namespace detail;

void openssl_free(void* p) noexcept { OPENSSL_free(p); }

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string bag_type_name(const PKCS12_SAFEBAG* bag) {
  switch (PKCS12_SAFEBAG_get_nid(bag)) {
    case NID_keyBag: return "keyBag";
    case NID_pkcs8ShroudedKeyBag: return "pkcs8ShroudedKeyBag";
    case NID_certBag: return "certBag";
    case NID_crlBag: return "crlBag";
    case NID_secretBag: return "secretBag";
    case NID_safeContentsBag: return "safeContentsBag";
    default: return oid_text(PKCS12_SAFEBAG_get0_type(bag));
  }
}

std::optional<std::string> friendly_name_of(const PKCS12_SAFEBAG* bag) {
  const ASN1_TYPE* t = PKCS12_SAFEBAG_get0_attr(bag, NID_friendlyName);
  if (t == nullptr) return std::nullopt;
  if (t->type == V_ASN1_BMPSTRING && t->value.bmpstring != nullptr) {
    return bmp_to_utf8({t->value.bmpstring->data, static_cast<std::size_t>(t->value.bmpstring->length)});
  }
  if (t->type == V_ASN1_UTF8STRING && t->value.utf8string != nullptr) {
    return std::string(reinterpret_cast<const char*>(t->value.utf8string->data),
                       static_cast<std::size_t>(t->value.utf8string->length));
  }
  return std::nullopt;  // anything else is not a name (e.g. a BOOLEAN some broken files carry)
}

std::optional<std::vector<std::byte>> local_key_id_of(const PKCS12_SAFEBAG* bag) {
  const ASN1_TYPE* t = PKCS12_SAFEBAG_get0_attr(bag, NID_localKeyID);
  if (t == nullptr || t->type != V_ASN1_OCTET_STRING || t->value.octet_string == nullptr) return std::nullopt;
  const auto* p = reinterpret_cast<const std::byte*>(t->value.octet_string->data);
  return std::vector<std::byte>(p, p + t->value.octet_string->length);
}

/// Decodes SafeContents from bytes, requiring that they are used up exactly. Counts the bags
/// first, so a file with too many costs no allocations; `room` is how many more bags are allowed.
SafeBagStackPtr decode_safe_contents(const unsigned char* data, std::size_t len, std::size_t room,
                                     std::size_t max_bags) {
  if (len > static_cast<std::size_t>(LONG_MAX)) return nullptr;
  const auto count = der::count_elements({reinterpret_cast<const std::byte*>(data), len}, room);
  if (count && *count > room) {
    throw Error(ErrorCode::limit_exceeded, "PKCS#12: more than " + std::to_string(max_bags) + " bags");
  }
  const unsigned char* p = data;
  auto* raw = ASN1_item_d2i(nullptr, &p, static_cast<long>(len), ASN1_ITEM_rptr(PKCS12_SAFEBAGS));
  SafeBagStackPtr bags(static_cast<STACK_OF(PKCS12_SAFEBAG)*>(static_cast<void*>(raw)));
  if (bags && p != data + len) return nullptr;
  return bags;
}

/// Whether `data` is exactly one SEQUENCE: DER with a definite length, or BER with an
/// indefinite one closed by end-of-contents octets.
bool one_sequence(const unsigned char* data, std::size_t len) noexcept {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), len);
  der::Reader r(in);
  if (r.read(der::kSequence) && r.empty()) return true;
  return len >= 4 && data[0] == 0x30 && data[1] == 0x80 && data[len - 2] == 0 && data[len - 1] == 0;
}

/// Whether the OpenSSL error queue says a decryption's padding check failed.
bool queue_says_bad_decrypt() {
  unsigned long e = 0;
  bool bad = false;
  while ((e = ERR_get_error()) != 0) {
    if ((ERR_GET_LIB(e) == ERR_LIB_EVP && ERR_GET_REASON(e) == EVP_R_BAD_DECRYPT) ||
        (ERR_GET_LIB(e) == ERR_LIB_PKCS12 && ERR_GET_REASON(e) == PKCS12_R_PKCS12_CIPHERFINAL_ERROR) ||
        (ERR_GET_LIB(e) == ERR_LIB_PROV && ERR_GET_REASON(e) == PROV_R_BAD_DECRYPT)) {
      bad = true;
    }
  }
  return bad;
}

/// The DER certificate in an x509Certificate certBag. OpenSSL 3.0 has no accessor for the
/// certValue OCTET STRING, so the bag is re-encoded (DER) and read:
/// SafeBag ::= SEQUENCE { OID, [0] { CertBag ::= SEQUENCE { OID, [0] { OCTET STRING } } }, ... }
std::vector<std::byte> certificate_der(const PKCS12_SAFEBAG* bag, const std::string& where) {
  unsigned char* buf = nullptr;
  const int n = i2d_PKCS12_SAFEBAG(bag, &buf);
  if (n <= 0) throw_openssl(ErrorCode::malformed, where + ": cannot read the certificate bag");
  const std::unique_ptr<unsigned char, Deleter<openssl_free>> owner(buf);
  der::Reader r({reinterpret_cast<const std::byte*>(buf), static_cast<std::size_t>(n)});
  std::optional<std::span<const std::byte>> cert;
  if (auto safe_bag = r.read(der::kSequence)) {
    der::Reader sb(*safe_bag);
    if (sb.read(der::kOid)) {
      if (auto value = sb.read(0, 2, true)) {
        der::Reader v(*value);
        if (auto cert_bag = v.read(der::kSequence)) {
          der::Reader cb(*cert_bag);
          if (cb.read(der::kOid)) {
            if (auto cert_value = cb.read(0, 2, true)) {
              der::Reader cv(*cert_value);
              cert = cv.read(der::kOctetString);
            }
          }
        }
      }
    }
  }
  if (!cert) throw Error(ErrorCode::malformed, where + ": the certificate is not an OCTET STRING");
  return {cert->begin(), cert->end()};
}

/// One bag as found, pointing into a stack the walk keeps alive.
struct BagRef {
  const PKCS12_SAFEBAG* bag = nullptr;
  std::string where;  // "PKCS#12 container 2, bag 1"
  PbeDescription pbe;  // a shrouded key bag's own encryption
};

class Walk {
 public:
  Walk(std::span<const std::byte> data, const Context& ctx)
      : ctx_(ctx), libctx_(libctx(ctx)), limits_(ctx.limits()), data_(data) {}

  /// Everything that needs no password: framing, structure, visible algorithms and iteration counts.
  void read_structure();
  /// Availability of every algorithm seen so far (load only).
  void check_available();
  /// Verifies the MAC (if any), then decrypts containers and reads their bags.
  void open(const SecretBytes& password);
  /// Decrypts the key and parses the certificates.
  BundleParts collect();

  Pkcs12Profile take_profile() {
    finish_profile(profile_);
    return std::move(profile_);
  }

 private:
  struct ContainerRef {
    PKCS7* p7 = nullptr;  // owned by safes_
    std::optional<PbeDescription> pbe;
    bool opened = false;
  };

  void read_mac();
  void add_bags(const STACK_OF(PKCS12_SAFEBAG) * bags, std::size_t container, std::size_t depth);
  SecretOpenSslBuffer decrypt(const X509_ALGOR* alg, const ASN1_OCTET_STRING* in, const std::string& where,
                              std::size_t& out_len);
  void sort_bags_into_file_order();
  [[nodiscard]] std::size_t room_for_bags() const noexcept {
    return profile_.bags.size() >= limits_.max_bags ? 0 : limits_.max_bags - profile_.bags.size();
  }
  static std::string container_where(std::size_t index) { return "PKCS#12 container " + std::to_string(index + 1); }

  const Context& ctx_;
  OSSL_LIB_CTX* libctx_;
  const Limits& limits_;
  std::span<const std::byte> data_;
  Pkcs12Ptr p12_;
  Pkcs7StackPtr safes_;
  std::vector<SafeBagStackPtr> bag_stacks_;
  std::vector<ContainerRef> containers_;
  std::vector<BagRef> bags_;  // parallel to profile_.bags
  std::vector<std::size_t> bags_per_container_;
  Pkcs12Profile profile_;
  std::size_t certificate_bags_ = 0;
  std::optional<PasswordCandidates> candidates_;
  std::vector<PasswordForm> order_;  // forms to try, the one that worked first
  bool mac_verified_ = false;
};

void Walk::read_structure() {
  if (data_.size() > limits_.max_input_bytes) {
    throw Error(ErrorCode::limit_exceeded, "PKCS#12: input of " + std::to_string(data_.size()) +
                                               " bytes exceeds the limit of " +
                                               std::to_string(limits_.max_input_bytes));
  }
  if (data_.empty()) throw Error(ErrorCode::malformed, "PKCS#12: empty input");
  if (data_.front() != std::byte{0x30}) {
    throw Error(ErrorCode::malformed, "PKCS#12: not a PKCS#12 file (it does not start with a SEQUENCE)");
  }
  const der::ScanResult scan = der::scan(data_, limits_.max_nesting);
  if (scan.string_nesting_exceeded) throw Error(ErrorCode::limit_exceeded, "PKCS#12: " + scan.problem);
  if (scan.status == der::Status::truncated) throw Error(ErrorCode::malformed, "PKCS#12: " + scan.problem);
  if (scan.status != der::Status::ok) throw Error(ErrorCode::malformed, "PKCS#12: not a PKCS#12 file (" + scan.problem + ")");
  if (scan.length < data_.size()) {
    throw Error(ErrorCode::malformed,
                "PKCS#12: trailing " + std::to_string(data_.size() - scan.length) + " bytes after the structure");
  }
  // PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData MacData OPTIONAL }
  der::Header outer;
  der::Header first;
  if (der::read_header(data_, outer) != der::Status::ok ||
      der::read_header(data_.subspan(outer.header_length), first) != der::Status::ok ||
      first.tag_class != 0 || first.tag != der::kInteger || first.constructed) {
    throw Error(ErrorCode::malformed, "PKCS#12: not a PKCS#12 file (no version number; a certificate or other DER?)");
  }
  const auto version = data_.subspan(outer.header_length + first.header_length, first.content_length);
  if (version.size() != 1 || version[0] != std::byte{3}) {
    throw Error(ErrorCode::malformed, "PKCS#12: version is not 3");
  }

  // Decode into an object made in our library context, so the MAC and the authenticated safe's
  // ContentInfos inherit it (OpenSSL 3.0 has no d2i_PKCS12_ex).
  PKCS12* raw = PKCS12_init_ex(NID_pkcs7_data, libctx_, nullptr);
  if (raw == nullptr) throw_openssl(ErrorCode::internal, "PKCS#12: cannot allocate");
  const auto* p = reinterpret_cast<const unsigned char*>(data_.data());
  const unsigned char* const begin = p;
  const PKCS12* decoded = d2i_PKCS12(&raw, &p, static_cast<long>(data_.size()));
  p12_.reset(raw);  // on failure OpenSSL freed it and set raw to NULL
  if (decoded == nullptr || !p12_) throw_openssl(ErrorCode::malformed, "PKCS#12: bad structure");
  if (static_cast<std::size_t>(p - begin) != data_.size()) {
    throw Error(ErrorCode::malformed, "PKCS#12: trailing " + std::to_string(data_.size() - static_cast<std::size_t>(p - begin)) +
                                          " bytes after the structure");
  }
  read_mac();

  safes_.reset(PKCS12_unpack_authsafes(p12_.get()));
  if (!safes_) {
    const unsigned long e = ERR_peek_error();
    if (ERR_GET_LIB(e) == ERR_LIB_PKCS12 && ERR_GET_REASON(e) == PKCS12_R_CONTENT_TYPE_NOT_DATA) {
      clear_openssl_errors();
      throw Error(ErrorCode::unsupported, "PKCS#12: public-key integrity mode (signedData) is not supported");
    }
    throw_openssl(ErrorCode::malformed, "PKCS#12: the authenticated safe is missing or broken");
  }
  const int n = sk_PKCS7_num(safes_.get());
  for (int i = 0; i < n; ++i) {
    PKCS7* p7 = sk_PKCS7_value(safes_.get(), i);
    const std::size_t index = containers_.size();
    const std::string where = container_where(index);
    containers_.push_back({p7, std::nullopt, false});
    bags_per_container_.push_back(0);
    Pkcs12ContainerInfo info;
    const int nid = p7->type != nullptr ? OBJ_obj2nid(p7->type) : NID_undef;
    if (nid == NID_pkcs7_data) {
      if (p7->d.data == nullptr) throw Error(ErrorCode::malformed, where + ": data without content");
      info.type = "data";
      info.encryption = "none";
      SafeBagStackPtr bags = decode_safe_contents(p7->d.data->data, static_cast<std::size_t>(p7->d.data->length),
                                                  room_for_bags(), limits_.max_bags);
      if (!bags) throw_openssl(ErrorCode::malformed, where + ": bad SafeContents");
      info.bag_count = static_cast<std::size_t>(sk_PKCS12_SAFEBAG_num(bags.get()));
      profile_.containers.push_back(std::move(info));
      containers_.back().opened = true;
      add_bags(bags.get(), index, 0);
      bag_stacks_.push_back(std::move(bags));
    } else if (nid == NID_pkcs7_encrypted) {
      const PKCS7_ENC_CONTENT* enc = p7->d.encrypted != nullptr ? p7->d.encrypted->enc_data : nullptr;
      if (enc == nullptr || enc->algorithm == nullptr || enc->enc_data == nullptr) {
        throw Error(ErrorCode::malformed, where + ": encryptedData without content");
      }
      PbeDescription pbe = describe_pbe(enc->algorithm, where);
      check_iterations(pbe.iterations, limits_, where);
      info.type = "encryptedData";
      info.encryption = pbe.encryption;
      info.kdf = pbe.kdf;
      info.iterations = pbe.iterations;
      info.salt_length = pbe.salt_length;
      profile_.containers.push_back(std::move(info));
      containers_.back().pbe = std::move(pbe);
      profile_.complete = false;
    } else {
      info.type = nid == NID_pkcs7_enveloped ? "envelopedData" : oid_text(p7->type);
      info.encryption = nid == NID_pkcs7_enveloped ? "public-key" : "unknown";
      profile_.containers.push_back(std::move(info));
      profile_.complete = false;
    }
  }
}

void Walk::read_mac() {
  if (PKCS12_mac_present(p12_.get()) != 1) return;
  const ASN1_OCTET_STRING* mac = nullptr;
  const X509_ALGOR* alg = nullptr;
  const ASN1_OCTET_STRING* salt = nullptr;
  const ASN1_INTEGER* iter = nullptr;
  PKCS12_get0_mac(&mac, &alg, &salt, &iter, p12_.get());
  if (alg == nullptr || mac == nullptr || salt == nullptr) throw Error(ErrorCode::malformed, "PKCS#12 MAC: incomplete");
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
  Pkcs12MacInfo info;
  const int nid = OBJ_obj2nid(obj);
  info.digest = nid != NID_undef && EVP_get_digestbynid(nid) != nullptr ? upper(OBJ_nid2sn(nid)) : oid_text(obj);
  if (nid == NID_pbmac1) info.digest = "PBMAC1";
  info.iterations = iter == nullptr ? 1 : iteration_count(iter, "PKCS#12 MAC");
  info.salt_length = static_cast<std::size_t>(salt->length);
  check_iterations(info.iterations, limits_, "PKCS#12 MAC");
  profile_.mac = std::move(info);
}

void Walk::add_bags(const STACK_OF(PKCS12_SAFEBAG) * bags, std::size_t container, std::size_t depth) {
  const Pkcs12ContainerInfo& holder = profile_.containers[container];
  const int n = sk_PKCS12_SAFEBAG_num(bags);
  for (int i = 0; i < n; ++i) {
    const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, i);
    if (profile_.bags.size() + 1 > limits_.max_bags) {
      throw Error(ErrorCode::limit_exceeded, "PKCS#12: more than " + std::to_string(limits_.max_bags) + " bags");
    }
    const std::string where = container_where(container) + ", bag " + std::to_string(++bags_per_container_[container]);
    Pkcs12BagInfo info;
    info.type = bag_type_name(bag);
    info.container = container;
    info.encryption = holder.encryption;
    info.kdf = holder.kdf;
    info.iterations = holder.iterations;
    info.salt_length = holder.salt_length;
    info.friendly_name = friendly_name_of(bag);
    info.local_key_id = local_key_id_of(bag);
    PbeDescription own;
    const int nid = PKCS12_SAFEBAG_get_nid(bag);
    if (nid == NID_pkcs8ShroudedKeyBag) {
      const X509_SIG* sig = PKCS12_SAFEBAG_get0_pkcs8(bag);
      const X509_ALGOR* alg = nullptr;
      const ASN1_OCTET_STRING* digest = nullptr;
      if (sig != nullptr) X509_SIG_get0(sig, &alg, &digest);
      if (alg == nullptr || digest == nullptr) throw Error(ErrorCode::malformed, where + ": empty shrouded key");
      own = describe_pbe(alg, where);
      check_iterations(own.iterations, limits_, where);
      info.encryption = own.encryption;
      info.kdf = own.kdf;
      info.iterations = own.iterations;
      info.salt_length = own.salt_length;
    } else if (nid == NID_certBag && PKCS12_SAFEBAG_get_bag_nid(bag) == NID_x509Certificate) {
      if (++certificate_bags_ > limits_.max_certificates) {
        throw Error(ErrorCode::limit_exceeded,
                    "PKCS#12: more than " + std::to_string(limits_.max_certificates) + " certificates");
      }
    } else if (nid == NID_keyBag && PKCS12_SAFEBAG_get0_p8inf(bag) == nullptr) {
      throw Error(ErrorCode::malformed, where + ": empty key bag");
    }
    profile_.bags.push_back(std::move(info));
    bags_.push_back({bag, where, std::move(own)});
    if (nid == NID_safeContentsBag) {
      if (depth + 1 > limits_.max_nesting) {
        throw Error(ErrorCode::limit_exceeded, where + ": safe contents nested more than " +
                                                   std::to_string(limits_.max_nesting) + " deep");
      }
      const STACK_OF(PKCS12_SAFEBAG)* inner = PKCS12_SAFEBAG_get0_safes(bag);
      if (inner != nullptr) add_bags(inner, container, depth + 1);
    }
  }
}

void Walk::check_available() {
  if (profile_.mac) {
    const std::string& d = profile_.mac->digest;
    ERR_set_mark();
    EvpMdPtr md(EVP_MD_fetch(libctx_, d.c_str(), nullptr));
    ERR_pop_to_mark();
    if (!md || d == "PBMAC1") throw Error(ErrorCode::unsupported, "PKCS#12 MAC: digest " + d + " is not supported");
  }
  for (std::size_t i = 0; i < containers_.size(); ++i) {
    const auto& c = containers_[i];
    if (c.pbe) {
      check_pbe_available(*c.pbe, libctx_, container_where(i));
    } else if (!c.opened) {
      throw Error(ErrorCode::unsupported, container_where(i) + ": content type " + profile_.containers[i].type +
                                              " (public-key privacy mode) is not supported");
    }
  }
  for (std::size_t i = 0; i < bags_.size(); ++i) {
    if (profile_.bags[i].type == "pkcs8ShroudedKeyBag") check_pbe_available(bags_[i].pbe, libctx_, bags_[i].where);
  }
}

SecretOpenSslBuffer Walk::decrypt(const X509_ALGOR* alg, const ASN1_OCTET_STRING* in, const std::string& where,
                                  std::size_t& out_len) {
  for (std::size_t k = 0; k < order_.size(); ++k) {
    const PasswordForm form = order_[k];
    unsigned char* out = nullptr;
    int len = 0;
    clear_openssl_errors();
    if (PKCS12_pbe_crypt_ex(alg, form.text, form.length, in->data, in->length, &out, &len, 0, libctx_, nullptr) !=
            nullptr &&
        len >= 0) {
      SecretOpenSslBuffer plain(out, ClearFree{static_cast<std::size_t>(len)});
      // A wrong password passes the padding check about once in 256 tries and yields garbage;
      // what every encrypted PKCS#12 part holds (SafeContents, PrivateKeyInfo) is one SEQUENCE
      // spanning the plaintext, so anything else counts as a failed decryption too.
      if (!one_sequence(plain.get(), static_cast<std::size_t>(len))) continue;
      out_len = static_cast<std::size_t>(len);
      if (k != 0) std::swap(order_[0], order_[k]);  // remember the form that works
      return plain;
    }
    if (queue_says_bad_decrypt()) continue;
    throw_openssl(ErrorCode::malformed, where + ": cannot decrypt");
  }
  if (mac_verified_) {
    throw Error(ErrorCode::bad_password,
                where + ": decryption failed although the MAC verified (the contents use another password)");
  }
  throw Error(ErrorCode::bad_password, where + ": decryption failed (wrong password?)");
}

void Walk::open(const SecretBytes& password) {
  candidates_.emplace(password);
  order_ = candidates_->forms();
  if (profile_.mac) {
    bool ok = false;
    for (std::size_t k = 0; k < order_.size(); ++k) {
      clear_openssl_errors();
      if (PKCS12_verify_mac(p12_.get(), order_[k].text, order_[k].length) == 1) {
        std::swap(order_[0], order_[k]);
        ok = true;
        break;
      }
    }
    clear_openssl_errors();
    if (!ok) throw Error(ErrorCode::bad_password, "PKCS#12: MAC verification failed (wrong password?)");
    mac_verified_ = true;
  }
  for (std::size_t i = 0; i < containers_.size(); ++i) {
    ContainerRef& c = containers_[i];
    if (c.opened || !c.pbe) continue;
    const std::string where = container_where(i);
    const PKCS7_ENC_CONTENT* enc = c.p7->d.encrypted->enc_data;
    std::size_t len = 0;
    SecretOpenSslBuffer plain = decrypt(enc->algorithm, enc->enc_data, where, len);
    SafeBagStackPtr bags = decode_safe_contents(plain.get(), len, room_for_bags(), limits_.max_bags);
    if (!bags) {
      clear_openssl_errors();
      // Without a MAC, a wrong password can pass the padding check by chance and yield garbage.
      if (!mac_verified_) throw Error(ErrorCode::bad_password, where + ": decryption failed (wrong password?)");
      throw Error(ErrorCode::malformed, where + ": bad SafeContents after decryption");
    }
    profile_.containers[i].bag_count = static_cast<std::size_t>(sk_PKCS12_SAFEBAG_num(bags.get()));
    c.opened = true;
    const std::size_t first_new = bags_.size();
    add_bags(bags.get(), i, 0);
    bag_stacks_.push_back(std::move(bags));
    for (std::size_t b = first_new; b < bags_.size(); ++b) {
      if (profile_.bags[b].type == "pkcs8ShroudedKeyBag") check_pbe_available(bags_[b].pbe, libctx_, bags_[b].where);
    }
  }
  profile_.complete = true;
  sort_bags_into_file_order();
}

void Walk::sort_bags_into_file_order() {
  // Bags of data containers were read before those of encrypted ones; within a container they
  // are in file order already.
  std::vector<std::size_t> order(bags_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return profile_.bags[a].container < profile_.bags[b].container;
  });
  std::vector<BagRef> bags;
  std::vector<Pkcs12BagInfo> infos;
  for (std::size_t i : order) {
    bags.push_back(std::move(bags_[i]));
    infos.push_back(std::move(profile_.bags[i]));
  }
  bags_ = std::move(bags);
  profile_.bags = std::move(infos);
}

BundleParts Walk::collect() {
  BundleParts parts;
  for (std::size_t i = 0; i < bags_.size(); ++i) {
    const PKCS12_SAFEBAG* bag = bags_[i].bag;
    const Pkcs12BagInfo& info = profile_.bags[i];
    const std::string& where = bags_[i].where;
    const int nid = PKCS12_SAFEBAG_get_nid(bag);
    if (nid == NID_certBag && PKCS12_SAFEBAG_get_bag_nid(bag) == NID_x509Certificate) {
      std::vector<std::byte> der = certificate_der(bag, where);
      try {
        // The file's MAC has verified (or it has none and the certificate bag was readable):
        // framing and structure are checked now, the X509 is parsed when first needed.
        Certificate cert = certificate_from_der_deferred(std::move(der), ctx_);
        parts.certificates.push_back({std::move(cert), info.friendly_name, info.local_key_id});
      } catch (const Error& e) {
        throw Error(e.code(), where + ": " + e.what());
      }
    } else if ((nid == NID_keyBag || nid == NID_pkcs8ShroudedKeyBag) && !parts.key) {
      SecretBytes der;
      if (nid == NID_keyBag) {
        const PKCS8_PRIV_KEY_INFO* p8 = PKCS12_SAFEBAG_get0_p8inf(bag);
        const int len = i2d_PKCS8_PRIV_KEY_INFO(p8, nullptr);
        if (len <= 0) throw_openssl(ErrorCode::malformed, where + ": bad key");
        der = SecretBytes::zeroed(static_cast<std::size_t>(len));
        auto* out = reinterpret_cast<unsigned char*>(der.data());
        i2d_PKCS8_PRIV_KEY_INFO(p8, &out);
      } else {
        const X509_ALGOR* alg = nullptr;
        const ASN1_OCTET_STRING* enc = nullptr;
        X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, &enc);
        std::size_t len = 0;
        SecretOpenSslBuffer plain = decrypt(alg, enc, where, len);
        der = SecretBytes(std::span(reinterpret_cast<const std::byte*>(plain.get()), len));
      }
      try {
        parts.key = PrivateKey::from_pkcs8_der(std::move(der), ctx_);
      } catch (const Error& e) {
        clear_openssl_errors();
        if (!mac_verified_ && nid == NID_pkcs8ShroudedKeyBag) {
          throw Error(ErrorCode::bad_password, where + ": decryption failed (wrong password?)");
        }
        throw Error(ErrorCode::malformed, where + ": the key is not a PKCS#8 PrivateKeyInfo");
      }
      parts.key_local_key_id = info.local_key_id;
      parts.key_friendly_name = info.friendly_name;
    }
  }
  parts.profile = take_profile();
  return parts;
}

}  // namespace

Pkcs12Bundle load_pkcs12(std::span<const std::byte> data, const SecretBytes& password, const Context& ctx) {
  Walk walk(data, ctx);
  walk.read_structure();
  walk.check_available();
  walk.open(password);
  return assemble_bundle(walk.collect());
}

Pkcs12Profile inspect_pkcs12_profile(std::span<const std::byte> data, const Context& ctx) {
  Walk walk(data, ctx);
  walk.read_structure();
  return walk.take_profile();
}

Pkcs12Bundle load_pkcs12_file(const std::filesystem::path& path, const SecretBytes& password, const Context& ctx) {
  const auto data = detail::read_file(path, {.limit = ctx.limits().max_input_bytes});
  return load_pkcs12(data, password, ctx);
}

}  // namespace dpgcert
