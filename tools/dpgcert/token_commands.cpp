// dpgcert token import / list / remove: certificates' private keys on PKCS#11 tokens
// (docs/tokens.md). The PIN comes from --pin-file, --pin-env, DPGCERT_PIN or a prompt.
#include "store_support.hpp"
#include "terminal.hpp"

#include <dpgcert/token.hpp>
#include <dpgcert/x509.hpp>

#include <iostream>

namespace dpgcert::cli {
namespace {

using nlohmann::json;

token::Token open_token(const StoreGlobal& global, const std::string& uri) {
  return token::Token::open(token::TokenUri::parse(uri), pin_source(global));
}

json token_key_json(const TokenKeyRecord& r) {
  return {{"fingerprint_sha256", r.fingerprint}, {"token", r.token_uri},        {"key", r.key_uri},
          {"certificate", r.certificate_uri},   {"id", r.object_id},           {"created", r.created},
          {"imported_at", format_rfc3339(r.imported_at)}, {"imported_by", r.imported_by}};
}

}  // namespace

int run_token_import(const StoreGlobal& global, const TokenImportOptions& options) {
  return guarded(options.common, [&] {
    auto store = open_store(global, options.common);
    const token::Token t = open_token(global, options.token);
    const TokenKeyRecord r = store->import_to_token(options.fingerprint, t, global.actor);
    if (options.common.json) {
      print_json(token_key_json(r));
    } else if (r.created == 0) {
      std::cout << "Already on token " << term(t.info().label) << ": " << r.fingerprint << "\n  key " << term(r.key_uri)
                << '\n';
    } else {
      std::cout << "Imported " << r.fingerprint << " to token " << term(t.info().label) << " (" << r.created
                << " objects; the private key is sensitive and not extractable)\n  key " << term(r.key_uri) << '\n';
    }
    return static_cast<int>(exit_ok);
  });
}

int run_token_remove(const StoreGlobal& global, const TokenImportOptions& options) {
  return guarded(options.common, [&] {
    auto store = open_store(global, options.common);
    const token::Token t = open_token(global, options.token);
    const std::size_t removed = store->remove_from_token(options.fingerprint, t, global.actor);
    if (options.common.json) {
      print_json({{"fingerprint", options.fingerprint}, {"token", t.info().uri}, {"removed", removed}});
    } else {
      std::cout << "Removed " << removed << " objects from token " << term(t.info().label) << '\n';
    }
    return static_cast<int>(exit_ok);
  });
}

int run_token_list(const StoreGlobal& global, const TokenListOptions& options) {
  return guarded(options.common, [&] {
    std::vector<std::string> uris;
    if (!options.token.empty()) {
      uris.push_back(options.token);
    } else {
      for (const auto& info : token::find_tokens()) uris.push_back(info.uri);
    }
    json out = json::array();
    for (const auto& uri : uris) {
      const token::Token t = open_token(global, uri);
      const token::TokenInfo info = t.info();
      for (const auto& c : t.certificates()) {
        json j = {{"uri", c.uri},   {"token", info.label}, {"label", c.label},
                  {"id", c.id_hex}, {"has_private_key", c.has_private_key}};
        try {
          const Certificate cert = Certificate::from_der(c.der);
          j["subject"] = cert.subject().to_string();
          j["serial"] = cert.serial_hex();
          j["not_after"] = format_rfc3339(cert.not_after());
          j["fingerprint_sha256"] = cert.fingerprint_hex();
        } catch (const Error&) {
          // Another program's object that is not a certificate dpgcert can read: listed as it is.
          j["subject"] = nullptr;
          j["serial"] = nullptr;
          j["not_after"] = nullptr;
          j["fingerprint_sha256"] = nullptr;
        }
        out.push_back(std::move(j));
      }
    }
    if (options.common.json) {
      print_json(out);
      return static_cast<int>(exit_ok);
    }
    if (out.empty()) {
      std::cout << "No certificates on the token.\n";
      return static_cast<int>(exit_ok);
    }
    for (const auto& j : out) {
      const auto text = [&](const char* k) { return j[k].is_string() ? j[k].get<std::string>() : std::string("-"); };
      std::cout << term(text("not_after").substr(0, 10)) << "  " << term(text("serial")) << "  "
                << term(text("subject")) << (j["has_private_key"].get<bool>() ? "" : "  (no private key)") << "\n  "
                << term(text("uri")) << '\n';
    }
    return static_cast<int>(exit_ok);
  });
}

}  // namespace dpgcert::cli
