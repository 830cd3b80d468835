#include "oces/oces_util.hpp"

#include <dpgcert/error.hpp>
#include <dpgcert/oces.hpp>

#include <array>
#include <utility>

namespace dpgcert::oces {
namespace {

// Certificate policy arcs (see ../shared/samples/README.md).
constexpr std::string_view arc_oces_production = "1.2.208.169.1.1.1";  // OCES2 production; OCES3 too
constexpr std::string_view arc_oces2_test = "1.3.6.1.4.1.31313.2.4.6";
constexpr std::string_view arc_oces3_organisation = "1.2.208.169.1.1.1.3.7";  // later ...3.7.1
// No real OCES3 employee certificate was at hand: by analogy with the organisation policy (OCES2's
// MOCES arc .2 with OCES3's version .7); only used to keep it from reading as OCES2 MOCES.
constexpr std::string_view arc_oces3_employee = "1.2.208.169.1.1.1.2.7";

constexpr std::string_view oces3_organisation_prefix = "UI:DK-O:G:";
constexpr std::string_view oces3_employee_prefix = "UI:DK-E:G:";

/// When `oid` is `arc` or lies under it, the part after "arc." (empty for the arc itself).
std::optional<std::string_view> under_arc(std::string_view oid, std::string_view arc) noexcept {
  if (!oid.starts_with(arc)) return std::nullopt;
  if (oid.size() == arc.size()) return std::string_view{};
  if (oid[arc.size()] != '.') return std::nullopt;
  return oid.substr(arc.size() + 1);
}

/// OCES2 type from the first arc after the policy root: 1 POCES, 2 MOCES, 3 VOCES, 4 FOCES.
CertificateType oces2_type_from_arc(std::string_view rest) noexcept {
  const std::string_view first = rest.substr(0, rest.find('.'));
  if (first == "1") return CertificateType::poces;
  if (first == "2") return CertificateType::moces;
  if (first == "3") return CertificateType::voces;
  if (first == "4") return CertificateType::foces;
  return CertificateType::none;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_digits(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool is_uuid(std::string_view s) noexcept {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> opt(std::string_view s) {
  if (s.empty()) return std::nullopt;
  return std::string(s);
}
std::optional<std::string> opt(const std::string* s) {
  if (s == nullptr || s->empty()) return std::nullopt;
  return *s;
}

/// What the certificate policies say.
struct Policies {
  std::optional<Environment> oces2_environment;  ///< From an OCES2 policy.
  CertificateType oces2_type = CertificateType::none;
  CertificateType oces3_type = CertificateType::none;  ///< From an OCES3 policy.
  bool oces_arc = false;  ///< Anything under 1.2.208.169.1.1.1.
};

Policies read_policies(const std::vector<std::string>& oids) noexcept {
  Policies p;
  for (const auto& oid : oids) {
    if (under_arc(oid, arc_oces3_organisation)) {
      p.oces3_type = CertificateType::organisation;
      p.oces_arc = true;
    } else if (under_arc(oid, arc_oces3_employee)) {
      if (p.oces3_type == CertificateType::none) p.oces3_type = CertificateType::employee;
      p.oces_arc = true;
    } else if (const auto test = under_arc(oid, arc_oces2_test)) {
      const auto type = oces2_type_from_arc(*test);
      if (type != CertificateType::none && !p.oces2_environment) {
        p.oces2_environment = Environment::test;
        p.oces2_type = type;
      }
    } else if (const auto prod = under_arc(oid, arc_oces_production)) {
      p.oces_arc = true;
      const auto type = oces2_type_from_arc(*prod);
      if (type != CertificateType::none && !p.oces2_environment) {
        p.oces2_environment = Environment::production;
        p.oces2_type = type;
      }
    }
  }
  return p;
}

/// The subject attributes identification reads (pointers into the certificate's cached name).
struct Subject {
  const std::string* cn = nullptr;
  const std::string* o = nullptr;
  const std::string* serial = nullptr;
  const std::string* org_id = nullptr;
  const std::string* email = nullptr;
};

Subject read_subject(const DistinguishedName& name) noexcept {
  Subject s;
  for (const auto& rdn : name.rdns()) {
    for (const auto& attr : rdn) {
      const std::string_view oid = attr.oid;
      const std::string** slot = nullptr;
      if (oid == detail::oid_common_name) slot = &s.cn;
      else if (oid == detail::oid_organisation) slot = &s.o;
      else if (oid == detail::oid_serial_number) slot = &s.serial;
      else if (oid == detail::oid_organization_identifier) slot = &s.org_id;
      else if (oid == detail::oid_email_address) slot = &s.email;
      if (slot != nullptr && *slot == nullptr) *slot = &attr.value;
    }
  }
  return s;
}

/// An OCES2 subject serialNumber: `CVR:<cvr>-UID:<id>`, `-FID:`, `-RID:`, or `PID:<id>`.
struct Oces2Serial {
  CertificateType type = CertificateType::none;
  std::string_view cvr;
  std::string_view id;
};

std::optional<Oces2Serial> parse_oces2_serial(std::string_view s) noexcept {
  if (detail::istarts_with(s, "PID:")) return Oces2Serial{CertificateType::poces, {}, trim(s.substr(4))};
  if (!detail::istarts_with(s, "CVR:")) return std::nullopt;
  const std::string_view rest = s.substr(4);
  const std::size_t dash = rest.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const std::string_view tail = rest.substr(dash + 1);
  Oces2Serial out;
  out.cvr = trim(rest.substr(0, dash));
  if (detail::istarts_with(tail, "UID:")) out.type = CertificateType::voces;
  else if (detail::istarts_with(tail, "FID:")) out.type = CertificateType::foces;
  else if (detail::istarts_with(tail, "RID:")) out.type = CertificateType::moces;
  else return std::nullopt;
  out.id = trim(tail.substr(4));
  return out;
}

/// `<name> // CVR:<cvr>` split into name and CVR (the CVR empty when there is none).
std::pair<std::string_view, std::string_view> split_organisation(std::string_view o) noexcept {
  const std::size_t sep = o.find("//");
  if (sep == std::string_view::npos) return {trim(o), {}};
  const std::string_view after = trim(o.substr(sep + 2));
  if (!detail::istarts_with(after, "CVR:")) return {trim(o), {}};
  return {trim(o.substr(0, sep)), trim(after.substr(4))};
}

void set_cvr(Identity& id, std::string_view cvr) {
  if (cvr.empty()) return;
  id.cvr = std::string(cvr);
  id.cvr_valid = cvr_checksum_valid(cvr);
  if (cvr.size() != 8 || !is_digits(cvr)) {
    id.warnings.push_back("CVR \"" + std::string(cvr) + "\" is not 8 digits");
  } else if (!*id.cvr_valid) {
    id.warnings.push_back("CVR " + std::string(cvr) + " fails the modulus-11 check");
  }
}

void set_common(Identity& id, const Certificate& cert, const Subject& s) {
  id.subject_serial = opt(s.serial);
  id.common_name = opt(s.cn);
  const auto& sans = cert.subject_alt_names();
  if (!sans.emails.empty() && !sans.emails.front().empty()) {
    id.email = sans.emails.front();
  } else {
    id.email = opt(s.email);
  }
}

/// OCES3 shares policy OIDs between production and test: the issuing CA says which.
Environment oces3_environment(const Certificate& cert, const CatalogueEntry* issuer) noexcept {
  if (issuer != nullptr && issuer->environment != Environment::unknown) return issuer->environment;
  for (const auto& rdn : cert.issuer().rdns()) {
    for (const auto& attr : rdn) {
      if (attr.oid == detail::oid_organisational_unit && detail::is_test_unit(attr.value)) return Environment::test;
    }
  }
  return Environment::production;
}

void identify_oces3(Identity& id, const Certificate& cert, const Subject& s, CertificateType type,
                    const CatalogueEntry* issuer) {
  id.generation = Generation::oces3;
  id.type = type;
  set_common(id, cert, s);
  const std::string_view uuid = s.serial->size() > oces3_organisation_prefix.size()
                                    ? std::string_view(*s.serial).substr(oces3_organisation_prefix.size())
                                    : std::string_view{};
  id.uuid = opt(uuid);
  if (!is_uuid(uuid)) id.warnings.push_back("serialNumber \"" + *s.serial + "\" does not end in a UUID");
  if (s.org_id != nullptr) {
    if (detail::istarts_with(*s.org_id, "NTRDK-")) {
      set_cvr(id, trim(std::string_view(*s.org_id).substr(6)));
    } else {
      id.warnings.push_back("organizationIdentifier \"" + *s.org_id + "\" is not NTRDK-<CVR>");
    }
  }
  id.organisation = opt(s.o);
  id.environment = oces3_environment(cert, issuer);
}

void identify_oces2(Identity& id, const Certificate& cert, const Subject& s, const Oces2Serial* serial,
                    const Policies& policies, const CatalogueEntry* issuer) {
  id.generation = Generation::oces2;
  id.type = serial != nullptr ? serial->type : policies.oces2_type;
  set_common(id, cert, s);
  if (serial != nullptr) {
    std::optional<std::string> value = opt(serial->id);
    switch (serial->type) {
      case CertificateType::voces: id.uid = std::move(value); break;
      case CertificateType::foces: id.fid = std::move(value); break;
      case CertificateType::moces: id.rid = std::move(value); break;
      default: id.pid = std::move(value); break;
    }
    if (policies.oces2_type != CertificateType::none && policies.oces2_type != serial->type) {
      id.warnings.push_back("the certificate policy says " + std::string(display_name(policies.oces2_type)) +
                            " but the serialNumber says " + std::string(display_name(serial->type)));
    }
  } else {
    id.warnings.push_back("no OCES2 serialNumber: the type comes from the certificate policy");
  }
  std::string_view o_cvr;
  if (s.o != nullptr) {
    const auto [name, cvr] = split_organisation(*s.o);
    id.organisation = opt(name);
    o_cvr = cvr;
  }
  const std::string_view serial_cvr = serial != nullptr ? serial->cvr : std::string_view{};
  set_cvr(id, !serial_cvr.empty() ? serial_cvr : o_cvr);
  if (!serial_cvr.empty() && !o_cvr.empty() && serial_cvr != o_cvr) {
    id.warnings.push_back("the CVR in O (" + std::string(o_cvr) + ") differs from the serialNumber's (" +
                          std::string(serial_cvr) + ")");
  }
  if (policies.oces2_environment) {
    id.environment = *policies.oces2_environment;
    if (issuer != nullptr && issuer->environment != Environment::unknown &&
        issuer->environment != id.environment) {
      id.warnings.push_back("the certificate policy says " + std::string(to_string(id.environment)) +
                            " but the issuing CA is " + std::string(to_string(issuer->environment)));
    }
  } else if (issuer != nullptr) {
    id.environment = issuer->environment;
  } else {
    const auto guess = detail::guess_ca(cert.issuer());
    if (guess.generation == Generation::oces2) id.environment = guess.environment;
  }
}

void identify_ca(Identity& id, const Certificate& cert, const Subject& s, const Catalogue& catalogue,
                 const CatalogueEntry* issuer) {
  const CatalogueEntry* self = catalogue.find_by_subject(cert.subject(), detail::subject_key_id(cert));
  const bool root = cert.is_self_issued();
  if (self != nullptr) {
    id.generation = self->generation;
    id.environment = self->environment;
  } else {
    const auto guess = detail::guess_ca(cert.subject());
    id.generation = guess.generation;
    id.environment = guess.environment;
  }
  if (id.generation == Generation::none) {
    id.environment = Environment::unknown;
    return;
  }
  id.type = root ? CertificateType::root_ca : CertificateType::issuing_ca;
  id.common_name = opt(s.cn);
  id.organisation = opt(s.o);
  id.subject_serial = opt(s.serial);
  if (root && self != nullptr) {
    id.issuing_ca = self->name;
  } else if (issuer != nullptr) {
    id.issuing_ca = issuer->name;
  }
}

/// A TDC OCES CA: O=TDC and a CN that says OCES ("TDC OCES CA", "TDC OCES Systemtest CA II").
bool is_tdc_oces_issuer(const DistinguishedName& issuer) {
  const auto o = issuer.first("O");
  const auto cn = issuer.first("CN");
  return o && *o == "TDC" && cn && detail::icontains(*cn, "OCES");
}

/// OCES1 (TDC): CVR and id from the serialNumber, the environment from the issuer's CN.
void identify_oces1(Identity& id, const Certificate& cert, const Subject& s, const Oces2Serial& serial) {
  id.generation = Generation::oces1;
  id.type = serial.type;
  set_common(id, cert, s);
  set_cvr(id, serial.cvr);
  id.organisation = opt(s.o);
  switch (serial.type) {
    case CertificateType::voces: id.uid = std::string(serial.id); break;
    case CertificateType::foces: id.fid = std::string(serial.id); break;
    default: id.rid = std::string(serial.id); break;
  }
  const auto cn = cert.issuer().first("CN");
  id.environment = cn && detail::icontains(*cn, "Systemtest") ? Environment::test : Environment::production;
  if (cn) id.issuing_ca = *cn;
  id.warnings.push_back("an OCES1 certificate issued by TDC: a retired generation");
}

Identity identify_impl(const Certificate& cert, const Catalogue& catalogue) {
  Identity id;
  const Subject s = read_subject(cert.subject());
  const CatalogueEntry* issuer = catalogue.find_issuer(cert);
  const auto& bc = cert.basic_constraints();
  if (bc && bc->ca) {
    identify_ca(id, cert, s, catalogue, issuer);
    return id;
  }
  const Policies policies = read_policies(cert.policies());
  const Generation issuer_generation = issuer != nullptr ? issuer->generation : Generation::none;
  const std::string_view serial = s.serial != nullptr ? std::string_view(*s.serial) : std::string_view{};

  // OCES3: a UI:DK-O/E serialNumber, vouched for by an OCES policy or a known OCES3 issuer.
  const bool oces3_org = serial.starts_with(oces3_organisation_prefix);
  const bool oces3_emp = serial.starts_with(oces3_employee_prefix);
  const auto serial2 = parse_oces2_serial(serial);
  if (serial2 && serial2->type != CertificateType::poces && is_tdc_oces_issuer(cert.issuer())) {
    // OCES1: an OCES2-style serialNumber under a TDC OCES CA: the retired first generation.
    identify_oces1(id, cert, s, *serial2);
  } else if ((oces3_org || oces3_emp) && (policies.oces_arc || issuer_generation == Generation::oces3)) {
    identify_oces3(id, cert, s, oces3_org ? CertificateType::organisation : CertificateType::employee, issuer);
  } else if (const auto& oces2 = serial2; oces2 && (policies.oces2_environment || issuer_generation == Generation::oces2)) {
    // OCES2: a CVR-.../PID serialNumber, vouched for by an OCES2 policy or a known OCES2 issuer.
    identify_oces2(id, cert, s, &*oces2, policies, issuer);
  } else if (!oces2 && !oces3_org && !oces3_emp && policies.oces2_environment) {
    // An OCES2 policy but no recognisable serialNumber: still OCES2, typed by the policy.
    identify_oces2(id, cert, s, nullptr, policies, issuer);
  } else if (!oces2 && !oces3_org && !oces3_emp && policies.oces3_type != CertificateType::none) {
    // An OCES3 policy but no recognisable serialNumber: still OCES3, typed by the policy.
    id.generation = Generation::oces3;
    id.type = policies.oces3_type;
    id.warnings.push_back("no OCES3 serialNumber (UI:DK-O:G:<uuid>): identified by the certificate policy");
    set_common(id, cert, s);
    id.organisation = opt(s.o);
    if (s.org_id != nullptr && detail::istarts_with(*s.org_id, "NTRDK-")) {
      set_cvr(id, trim(std::string_view(*s.org_id).substr(6)));
    }
    id.environment = oces3_environment(cert, issuer);
  } else {
    return id;  // not OCES
  }
  if (issuer != nullptr) id.issuing_ca = issuer->name;
  return id;
}

}  // namespace

std::string_view to_string(Generation value) noexcept {
  switch (value) {
    case Generation::oces2: return "oces2";
    case Generation::oces3: return "oces3";
    case Generation::oces1: return "oces1";
    case Generation::none: break;
  }
  return "none";
}

std::string_view to_string(CertificateType value) noexcept {
  switch (value) {
    case CertificateType::voces: return "voces";
    case CertificateType::foces: return "foces";
    case CertificateType::moces: return "moces";
    case CertificateType::poces: return "poces";
    case CertificateType::organisation: return "organisation";
    case CertificateType::employee: return "employee";
    case CertificateType::root_ca: return "root_ca";
    case CertificateType::issuing_ca: return "issuing_ca";
    case CertificateType::none: break;
  }
  return "none";
}

std::string_view to_string(Environment value) noexcept {
  switch (value) {
    case Environment::production: return "production";
    case Environment::test: return "test";
    case Environment::unknown: break;
  }
  return "unknown";
}

std::string_view to_string(CaRole value) noexcept { return value == CaRole::root ? "root" : "issuing"; }

std::optional<Generation> parse_generation(std::string_view text) noexcept {
  for (auto v : {Generation::none, Generation::oces2, Generation::oces3, Generation::oces1}) {
    if (to_string(v) == text) return v;
  }
  return std::nullopt;
}

std::optional<CertificateType> parse_certificate_type(std::string_view text) noexcept {
  for (auto v : {CertificateType::none, CertificateType::voces, CertificateType::foces, CertificateType::moces,
                 CertificateType::poces, CertificateType::organisation, CertificateType::employee,
                 CertificateType::root_ca, CertificateType::issuing_ca}) {
    if (to_string(v) == text) return v;
  }
  return std::nullopt;
}

std::optional<Environment> parse_environment(std::string_view text) noexcept {
  for (auto v : {Environment::unknown, Environment::production, Environment::test}) {
    if (to_string(v) == text) return v;
  }
  return std::nullopt;
}

std::optional<CaRole> parse_ca_role(std::string_view text) noexcept {
  for (auto v : {CaRole::root, CaRole::issuing}) {
    if (to_string(v) == text) return v;
  }
  return std::nullopt;
}

std::string_view display_name(CertificateType value) noexcept {
  switch (value) {
    case CertificateType::voces: return "VOCES (company)";
    case CertificateType::foces: return "FOCES (function)";
    case CertificateType::moces: return "MOCES (employee)";
    case CertificateType::poces: return "POCES (person)";
    case CertificateType::organisation: return "organisation";
    case CertificateType::employee: return "employee";
    case CertificateType::root_ca: return "root CA";
    case CertificateType::issuing_ca: return "issuing CA";
    case CertificateType::none: break;
  }
  return "not OCES";
}

bool cvr_checksum_valid(std::string_view cvr) noexcept {
  static constexpr std::array<int, 8> weights{2, 7, 6, 5, 4, 3, 2, 1};
  if (cvr.size() != weights.size()) return false;
  int sum = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const char c = cvr[i];
    if (c < '0' || c > '9') return false;
    sum += (c - '0') * weights[i];
  }
  return sum % 11 == 0;
}

const std::optional<std::string>& Identity::id() const noexcept {
  switch (type) {
    case CertificateType::voces: return uid;
    case CertificateType::foces: return fid;
    case CertificateType::moces: return rid;
    case CertificateType::poces: return pid;
    default: return uuid;
  }
}

Identity identify(const Certificate& cert, const Catalogue& catalogue) {
  try {
    return identify_impl(cert, catalogue);
  } catch (const Error& e) {
    // A field the x509 layer could not decode: report, never throw for an odd certificate.
    Identity id;
    id.warnings.push_back(std::string("the certificate could not be read for identification: ") + e.what());
    return id;
  }
}

std::string summary(const Identity& identity) {
  if (!identity.is_oces()) return "not an OCES certificate";
  std::string out = identity.generation == Generation::oces1   ? "OCES1 "
                    : identity.generation == Generation::oces2 ? "OCES2 "
                                                               : "OCES3 ";
  out += display_name(identity.type);
  if (identity.environment != Environment::unknown) {
    out += ", ";
    out += to_string(identity.environment);
  }
  if (identity.cvr) {
    out += ", CVR " + *identity.cvr;
    if (identity.cvr_valid == false) out += " (check digit wrong)";
  }
  static constexpr std::array<std::pair<CertificateType, std::string_view>, 5> labels{{
      {CertificateType::voces, "UID"},
      {CertificateType::foces, "FID"},
      {CertificateType::moces, "RID"},
      {CertificateType::poces, "PID"},
      {CertificateType::organisation, "UUID"},
  }};
  const auto& value = identity.id();
  if (value) {
    std::string_view label = "UUID";
    for (const auto& [type, text] : labels) {
      if (type == identity.type) label = text;
    }
    out += ", ";
    out += label;
    out += ' ';
    out += *value;
  }
  if (identity.organisation) out += ", " + *identity.organisation;
  if (identity.type == CertificateType::root_ca || identity.type == CertificateType::issuing_ca) {
    if (identity.common_name) out += ", " + *identity.common_name;
  }
  return out;
}

}  // namespace dpgcert::oces
