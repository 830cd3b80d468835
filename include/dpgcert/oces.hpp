// Danish OCES identity of a certificate (generation, type, CVR, ids, environment) and the catalogue
// of known OCES root and issuing CAs.
#pragma once

#include <dpgcert/context.hpp>
#include <dpgcert/export.hpp>
#include <dpgcert/x509.hpp>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert::oces {

/// The OCES generation: NemID-era OCES2 (TRUST2408) or MitID Erhverv OCES3 (Den Danske Stat);
/// oces1 is the retired first generation issued by TDC (recognised so it can be refused by name).
enum class Generation { none, oces2, oces3, oces1 };

/// What kind of OCES certificate it is.
enum class CertificateType {
  none,          ///< Not an OCES certificate.
  voces,         ///< OCES2 company certificate (serialNumber `CVR:<cvr>-UID:<uid>`).
  foces,         ///< OCES2 function certificate (`CVR:<cvr>-FID:<fid>`).
  moces,         ///< OCES2 employee certificate (`CVR:<cvr>-RID:<rid>`).
  poces,         ///< OCES2 personal certificate (`PID:<pid>`).
  organisation,  ///< OCES3 organisation certificate (`UI:DK-O:G:<uuid>`).
  employee,      ///< OCES3 employee certificate (`UI:DK-E:G:<uuid>`).
  root_ca,       ///< An OCES root CA certificate.
  issuing_ca,    ///< An OCES issuing (intermediate) CA certificate.
};

/// Production or test. `unknown` when nothing says which.
enum class Environment { unknown, production, test };

/// The role of a CA in the catalogue.
enum class CaRole { root, issuing };

/// Lowercase names: "none", "oces2", "oces3", "oces1".
[[nodiscard]] DPGCERT_API std::string_view to_string(Generation value) noexcept;
/// Lowercase names: "none", "voces", "foces", "moces", "poces", "organisation", "employee",
/// "root_ca", "issuing_ca".
[[nodiscard]] DPGCERT_API std::string_view to_string(CertificateType value) noexcept;
/// Lowercase names: "unknown", "production", "test".
[[nodiscard]] DPGCERT_API std::string_view to_string(Environment value) noexcept;
/// Lowercase names: "root", "issuing".
[[nodiscard]] DPGCERT_API std::string_view to_string(CaRole value) noexcept;

/// The inverses of to_string(); std::nullopt for any other text (case-sensitive).
[[nodiscard]] DPGCERT_API std::optional<Generation> parse_generation(std::string_view text) noexcept;
[[nodiscard]] DPGCERT_API std::optional<CertificateType> parse_certificate_type(std::string_view text) noexcept;
[[nodiscard]] DPGCERT_API std::optional<Environment> parse_environment(std::string_view text) noexcept;
[[nodiscard]] DPGCERT_API std::optional<CaRole> parse_ca_role(std::string_view text) noexcept;

/// How an operator reads the type: "VOCES (company)", "FOCES (function)", "MOCES (employee)",
/// "POCES (person)", "organisation", "employee", "root CA", "issuing CA", "not OCES".
[[nodiscard]] DPGCERT_API std::string_view display_name(CertificateType value) noexcept;

/// Whether `cvr` is 8 ASCII digits passing the modulus-11 check (weights 2,7,6,5,4,3,2,1).
[[nodiscard]] DPGCERT_API bool cvr_checksum_valid(std::string_view cvr) noexcept;

/// One known OCES CA. A value; cheap to copy.
struct CatalogueEntry {
  std::string name;  ///< A label unique in the built-in catalogue, e.g. "TRUST2408 OCES CA IV".
  Generation generation = Generation::none;
  Environment environment = Environment::unknown;
  CaRole role = CaRole::issuing;
  Certificate certificate;

  /// Describes a CA certificate from what it says about itself: role root when self-issued, else
  /// issuing; generation oces2 for O=TRUST2408, oces3 for O=Den Danske Stat, else none; environment
  /// test when the CN says "Systemtest" or an OU starts with "Test" (OCES3's `OU=Test - cti`),
  /// production for other OCES CAs, else unknown; name from the CN, with " (test)" appended for a
  /// test CA whose CN does not say so. Never throws for odd certificates.
  [[nodiscard]] DPGCERT_API static CatalogueEntry describe(Certificate ca);
};

/// A set of known CAs: looked up to identify certificates, and the source of default trust anchors.
///
/// An immutable value: cheap to copy (shared), safe to use from several threads. Pointers to
/// entries stay valid as long as this catalogue or a copy of it lives.
class DPGCERT_API Catalogue final {
 public:
  /// An empty catalogue.
  Catalogue();
  /// A catalogue of exactly these entries, in this order (lookups return the first match).
  explicit Catalogue(std::vector<CatalogueEntry> entries);

  /// A catalogue of these CA certificates, each described by CatalogueEntry::describe().
  [[nodiscard]] static Catalogue from_certificates(std::span<const Certificate> cas);

  /// Reads a directory shaped like the shipped data/oces-ca: a `catalogue.json` index (entries with
  /// file, name, generation, environment, role) and one PEM or DER certificate per file. Throws
  /// Error(io) when a file cannot be read, Error(malformed) for a bad index or certificate file
  /// (exactly one certificate per file), Error(limit_exceeded) for files past the context's limit.
  [[nodiscard]] static Catalogue load_directory(const std::filesystem::path& dir,
                                                const Context& ctx = Context::shared());

  /// The catalogue shipped with the library (compiled in; see data/oces-ca): OCES2 TRUST2408
  /// production and Systemtest VII, OCES3 Den Danske Stat production and test. Parsed on first use,
  /// thread-safe; throws Error(internal) only if the embedded data is broken.
  [[nodiscard]] static const Catalogue& builtin();

  [[nodiscard]] const std::vector<CatalogueEntry>& entries() const noexcept;
  [[nodiscard]] std::size_t size() const noexcept;
  [[nodiscard]] bool empty() const noexcept;

  /// The entry with this name, if any.
  [[nodiscard]] const CatalogueEntry* find(std::string_view name) const noexcept;
  /// The entry holding exactly this certificate (same DER), if any.
  [[nodiscard]] const CatalogueEntry* find(const Certificate& cert) const;
  /// The entry for the CA with this subject name and, when given and known, this subject key id
  /// (a re-issued certificate of the same CA matches too).
  [[nodiscard]] const CatalogueEntry* find_by_subject(const DistinguishedName& subject,
                                                      std::span<const std::byte> key_id = {}) const;
  /// The entry of the CA that issued `cert`: its subject equals cert's issuer and, when both are
  /// present, its subject key id equals cert's authority key id. Signatures are not checked here.
  [[nodiscard]] const CatalogueEntry* find_issuer(const Certificate& cert) const;

  /// Root certificates, optionally only of one generation and/or environment: the default trust
  /// anchors for validation.
  [[nodiscard]] std::vector<Certificate> anchors(std::optional<Generation> generation = std::nullopt,
                                                 std::optional<Environment> environment = std::nullopt) const;
  /// Issuing CA certificates, filtered the same way: untrusted intermediates for path building.
  [[nodiscard]] std::vector<Certificate> intermediates(
      std::optional<Generation> generation = std::nullopt,
      std::optional<Environment> environment = std::nullopt) const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

/// The OCES identity of a certificate. A value. Optional fields are absent where they do not apply;
/// for a certificate that is not OCES every field is empty and `generation` is `none`.
struct Identity {
  Generation generation = Generation::none;
  CertificateType type = CertificateType::none;
  Environment environment = Environment::unknown;
  /// The CVR number: OCES2 from the serialNumber (`CVR:<cvr>-...`) or else from O (`<name> // CVR:<cvr>`);
  /// OCES3 from organizationIdentifier (`NTRDK-<cvr>`).
  std::optional<std::string> cvr;
  /// Whether the CVR passes the modulus-11 check; a failure is a warning, not an error.
  std::optional<bool> cvr_valid;
  std::optional<std::string> subject_serial;  ///< The subject's serialNumber, in full.
  std::optional<std::string> uid;   ///< VOCES: text after "UID:".
  std::optional<std::string> fid;   ///< FOCES: text after "FID:".
  std::optional<std::string> rid;   ///< MOCES: text after "RID:".
  std::optional<std::string> pid;   ///< POCES: text after "PID:".
  std::optional<std::string> uuid;  ///< OCES3: the UUID after "UI:DK-O:G:" / "UI:DK-E:G:".
  std::optional<std::string> organisation;  ///< O without the " // CVR:..." suffix.
  std::optional<std::string> common_name;   ///< CN.
  std::optional<std::string> email;         ///< First rfc822Name of the SAN, else the subject's emailAddress.
  /// The catalogue name of the CA that issued the certificate (for a root in the catalogue: itself).
  std::optional<std::string> issuing_ca;
  /// Oddities that do not stop identification (bad CVR check digit, CVR in O differing from the
  /// serialNumber, policy and serialNumber disagreeing, ...), as sentences.
  std::vector<std::string> warnings;

  [[nodiscard]] bool is_oces() const noexcept { return generation != Generation::none; }
  /// The id that goes with the type (uid, fid, rid, pid or uuid), if any.
  [[nodiscard]] DPGCERT_API const std::optional<std::string>& id() const noexcept;
  bool operator==(const Identity&) const = default;
};

/// Identifies a certificate as OCES, using `catalogue` to recognise issuing CAs.
///
/// Leaf certificates: OCES3 by a `UI:DK-O:G:`/`UI:DK-E:G:` serialNumber together with an OCES
/// policy (arc 1.2.208.169.1.1.1) or an OCES3 issuer in the catalogue; OCES2 by a `CVR:...-UID/FID/
/// RID:` or `PID:` serialNumber together with an OCES2 policy (production 1.2.208.169.1.1.1.{1-4},
/// test 1.3.6.1.4.1.31313.2.4.6.{1-4}) or an OCES2 issuer in the catalogue. OCES2 environment comes
/// from the policy, OCES3's from the catalogue's issuing CA, else `OU=Test - cti` in the issuer.
/// CA certificates: by the catalogue, else by CatalogueEntry::describe().
///
/// Does not throw for odd or non-OCES certificates (those yield generation none); may throw only
/// std::bad_alloc. The certificate's lazily decoded fields are decoded on first use.
[[nodiscard]] DPGCERT_API Identity identify(const Certificate& cert,
                                            const Catalogue& catalogue = Catalogue::builtin());

/// One line for people, e.g. "OCES2 FOCES (function), test, CVR 30808460, FID 94731315,
/// NETS DANID A/S"; "not an OCES certificate" for generation none.
[[nodiscard]] DPGCERT_API std::string summary(const Identity& identity);

}  // namespace dpgcert::oces
