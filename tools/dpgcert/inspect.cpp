// dpgcert inspect: what is this file?
#include "cli.hpp"
#include "core/file_io.hpp"
#include "onboarding.hpp"
#include "terminal.hpp"

#include <dpgcert/context.hpp>
#include <dpgcert/json.hpp>
#include <dpgcert/pkcs12.hpp>
#include <dpgcert/x509.hpp>

#include <nlohmann/json.hpp>

#include <iostream>

namespace dpgcert::cli {
namespace {

std::string join(const std::vector<std::string>& v, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

void print_certificate(const Certificate& c, Time now, std::string_view heading) {
  std::cout << heading << '\n';
  print_identity_rows(c);
  print_row("Subject", c.subject().to_string());
  print_row("Issuer", c.issuer().to_string());
  print_row("Serial", c.serial_hex());
  print_row("Valid from", format_rfc3339(c.not_before()) + " (" + relative_days(c.not_before(), now) + ")");
  print_row("Valid until", format_rfc3339(c.not_after()) + " (" + relative_days(c.not_after(), now) + ")");
  const auto& key = c.public_key();
  print_row("Key", key.algorithm + " " + std::to_string(key.bits) + " bits" + (key.curve ? " " + *key.curve : ""));
  print_row("Signature", c.signature_algorithm());
  if (const auto& ku = c.key_usage()) print_row("Key usage", join(ku->names()));
  if (!c.extended_key_usage().empty()) print_row("Extended key usage", join(c.extended_key_usage()));
  const auto& san = c.subject_alt_names();
  if (!san.emails.empty()) print_row("SAN e-mail", join(san.emails));
  if (!san.dns.empty()) print_row("DNS names", join(san.dns));
  if (!c.policies().empty()) print_row("Policies", join(c.policies()));
  if (!c.authority_info_access().ocsp.empty()) print_row("OCSP", join(c.authority_info_access().ocsp));
  if (!c.crl_distribution_points().empty()) print_row("CRL", join(c.crl_distribution_points()));
  if (c.is_ca()) print_row("CA", "yes");
  print_row("SHA-256", c.fingerprint_hex());
}

}  // namespace

int run_inspect(const InspectOptions& options) {
  const Context& ctx = Context::shared();
  try {
    const Time now = options.common.now_time();
    const auto data = detail::read_file(options.file, {.limit = ctx.limits().max_input_bytes});
    const std::optional<SecretBytes> password = password_for(options.password, data, options.file);
    const LoadedFile loaded = load_any(data, password ? &*password : nullptr, ctx);

    std::optional<Certificate> main;
    std::vector<Certificate> rest;
    if (loaded.kind == FileKind::pkcs12) {
      main = loaded.bundle->leaf();
      rest = loaded.bundle->chain();
      if (!main && !rest.empty()) {
        main = rest.front();
        rest.erase(rest.begin());
      }
    } else {
      main = loaded.certificates.front();
      rest.assign(loaded.certificates.begin() + 1, loaded.certificates.end());
    }

    if (options.common.json) {
      nlohmann::json j;
      j["file"] = options.file;
      j["kind"] = loaded.kind == FileKind::pkcs12 ? "pkcs12" : "certificate";
      j["certificate"] = main ? certificate_json(*main) : nlohmann::json(nullptr);
      j["chain"] = nlohmann::json::array();
      for (const auto& c : rest) j["chain"].push_back(certificate_json(c));
      if (loaded.bundle) {
        const auto& b = *loaded.bundle;
        nlohmann::json p = to_json(b.profile());
        p["friendly_name"] = b.friendly_name() ? nlohmann::json(*b.friendly_name()) : nlohmann::json(nullptr);
        if (const PrivateKey* k = b.private_key()) {
          p["private_key"] = {{"algorithm", k->algorithm()}, {"bits", k->bits()}, {"matches_certificate", b.key_matches()}};
        } else {
          p["private_key"] = nullptr;
        }
        j["pkcs12"] = std::move(p);
      }
      print_json(j);
      return exit_ok;
    }

    std::cout << term(options.file) << ": "
              << (loaded.kind == FileKind::pkcs12 ? "PKCS#12 bundle" : "certificate file") << '\n';
    if (loaded.bundle) {
      const auto& b = *loaded.bundle;
      const auto& prof = b.profile();
      std::cout << "PKCS#12\n";
      print_row("Protection", prof.legacy ? "legacy (" + join(prof.legacy_reasons) + ") - re-wrap advised" : "modern");
      if (prof.mac) {
        print_row("MAC", prof.mac->digest + ", " + std::to_string(prof.mac->iterations) + " iterations");
      } else {
        print_row("MAC", "none");
      }
      for (const auto& bag : prof.bags) {
        print_row(bag.type, bag.encryption + (bag.iterations > 0 ? ", " + std::to_string(bag.iterations) + " iterations" : ""));
      }
      if (const PrivateKey* k = b.private_key()) {
        print_row("Private key", k->algorithm() + " " + std::to_string(k->bits()) + " bits, " +
                                     (b.key_matches() ? "matches the certificate" : "DOES NOT match the certificate"));
      } else {
        print_row("Private key", "none");
      }
      if (b.friendly_name()) print_row("Friendly name", *b.friendly_name());
    }
    if (main) print_certificate(*main, now, loaded.kind == FileKind::pkcs12 ? "Certificate" : "Certificate 1");
    int n = 1;
    for (const auto& c : rest) {
      print_certificate(c, now, loaded.kind == FileKind::pkcs12 ? "Chain certificate " + std::to_string(n++)
                                                                : "Certificate " + std::to_string(++n));
    }
    return exit_ok;
  } catch (const Error& e) {
    if (e.code() == ErrorCode::bad_password && !options.password.given()) {
      // No password was given at all: the file is protected, not the password wrong.
      print_error(options.common, Error(ErrorCode::bad_password, "'" + options.file +
                                                                 "' is password-protected and no password was given"));
      if (!options.common.json) {
        std::cerr << "dpgcert: hint: give it with --password-file FILE, --password-env VAR or --password-stdin\n";
      }
      return exit_unreadable;
    }
    print_error(options.common, e);
    return e.code() == ErrorCode::invalid_argument ? exit_usage : exit_unreadable;
  }
}

}  // namespace dpgcert::cli
