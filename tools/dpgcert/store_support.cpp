// Shared by the store command files: opening the store, running a command body, output helpers.
#include "store_support.hpp"

#include "onboarding.hpp"
#include "terminal.hpp"

#include <dpgcert/context.hpp>
#include <dpgcert/json.hpp>
#include <dpgcert/lifecycle.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace dpgcert::cli {
namespace {

namespace fs = std::filesystem;

// ---- opening the store -----------------------------------------------------------------------

fs::path default_store_path() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg == '/') {
    return fs::path(xdg) / "dpgcert" / "store.db";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return fs::path(home) / ".local" / "share" / "dpgcert" / "store.db";
  }
  return "dpgcert.db";
}

fs::path store_path(const StoreGlobal& g) { return g.store.empty() ? default_store_path() : fs::path(g.store); }

/// A hint for errors an operator can fix from the environment (text mode only).
void print_hint(const Common& common, const Error& e) {
  if (!common.json && std::string_view(e.what()).find("from a passphrase") != std::string_view::npos) {
    std::cerr << "dpgcert: hint: set DPGCERT_PASSPHRASE to the store's passphrase\n";
  }
}

}  // namespace

using nlohmann::json;

token::PinSource pin_source(const StoreGlobal& g) {
  token::PinSource s;
  if (!g.pin_file.empty() && !g.pin_env.empty()) throw Error(ErrorCode::invalid_argument, "give --pin-file or --pin-env, not both");
  if (!g.pin_file.empty() || !g.pin_env.empty()) {
    PasswordSource p;
    p.file = g.pin_file;
    p.env = g.pin_env;
    if (!g.pin_env.empty()) refuse_inherited_secret_variable(g.pin_env);
    s.pin = p.read();
  } else if (const char* v = std::getenv("DPGCERT_PIN"); v != nullptr && *v != '\0') {
    s.pin = SecretBytes::from_text(v);
  } else if (stdin_is_terminal()) {
    s.prompt = [](const std::string& label) { return prompt_password("PIN for token '" + term(label) + "': "); };
  }
  return s;
}

SecretBytes read_pin(const StoreGlobal& g, const std::string& token_uri) {
  token::PinSource s = pin_source(g);
  if (s.pin) return std::move(*s.pin);
  if (s.prompt) return s.prompt(token::TokenUri::parse(token_uri).token_label.value_or(token_uri));
  throw Error(ErrorCode::invalid_argument, "the token needs its user PIN: give --pin-file, --pin-env or DPGCERT_PIN");
}

StoreOptions store_options(const StoreGlobal& g, const Common& common) {
  StoreOptions o;
  o.location = store_path(g).string();
  o.actor = g.actor;
  if (!common.now.empty()) o.clock = std::make_shared<FixedClock>(parse_rfc3339(common.now));
  // Overrides of what the store remembers about its master key: the environment, else the
  // configuration file.
  if (const char* kf = std::getenv("DPGCERT_KEY_FILE"); kf != nullptr && *kf != '\0') {
    o.unlock.key_file = kf;
  } else if (!g.key_file.empty()) {
    o.unlock.key_file = g.key_file;
  }
  if (const char* pp = std::getenv("DPGCERT_PASSPHRASE"); pp != nullptr && *pp != '\0') {
    o.unlock.passphrase = SecretBytes::from_text(pp);
  } else if (!g.passphrase_env.empty()) {
    refuse_inherited_secret_variable(g.passphrase_env);
    const char* v = std::getenv(g.passphrase_env.c_str());
    if (v == nullptr) {
      throw Error(ErrorCode::invalid_argument, "the configuration names " + g.passphrase_env +
                                                   " for the store's passphrase, and it is not set");
    }
    o.unlock.passphrase = SecretBytes::from_text(v);
  }
  o.unlock.pin = pin_source(g);
  return o;
}

std::unique_ptr<Store> open_store(const StoreGlobal& g, const Common& common) {
  return Store::open(store_options(g, common));
}

void refuse_inherited_secret_variable(const std::string& var) {
  if (command_hook_inherits(var)) {
    throw Error(ErrorCode::invalid_argument, "the passphrase cannot be in " + var +
                                                 ": command hooks inherit that variable; use another name");
  }
}

int guarded(const Common& common, const std::function<int()>& body) {
  try {
    return body();
  } catch (const Error& e) {
    print_error(common, e);
    print_hint(common, e);
    return e.code() == ErrorCode::invalid_argument ? exit_usage : exit_unreadable;
  }
}

std::unique_ptr<Store> open_cli_store(const StoreGlobal& global, const Common& common) {
  return open_store(global, common);
}

int run_guarded(const Common& common, const std::function<int()>& body) { return guarded(common, body); }

// ---- output helpers ----------------------------------------------------------------------------

json opt(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

std::string date_only(Time t) { return format_rfc3339(t).substr(0, 10); }

std::string pad(std::string s, std::size_t width) {
  s = term(s);  // a value from the store or a certificate: escaped before it is measured
  s.append(s.size() < width ? width - s.size() : 1, ' ');
  return s;
}

long long days_left(Time not_after, Time now) {
  const auto secs = (not_after - now).count();
  return secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
}

json summary_json(const CertificateSummary& s, Time now) {
  json j;
  j["fingerprint_sha256"] = s.fingerprint;
  j["status"] = std::string(to_string(s.status));
  j["not_before"] = format_rfc3339(s.not_before);
  j["not_after"] = format_rfc3339(s.not_after);
  j["days_left"] = days_left(s.not_after, now);
  j["cvr"] = s.organisation_cvr ? json(*s.organisation_cvr) : opt(s.cvr);
  j["organisation_cvr"] = opt(s.organisation_cvr);
  j["certificate_cvr"] = opt(s.cvr);
  j["mailbox"] = opt(s.mailbox);
  j["type"] = s.type == oces::CertificateType::none ? json(nullptr) : json(std::string(oces::to_string(s.type)));
  j["generation"] = s.generation == oces::Generation::none ? json(nullptr) : json(std::string(oces::to_string(s.generation)));
  j["environment"] =
      s.environment == oces::Environment::unknown ? json(nullptr) : json(std::string(oces::to_string(s.environment)));
  j["oces_id"] = opt(s.oces_id);
  j["common_name"] = opt(s.common_name);
  return j;
}

json parse_or_text(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json(text) : j;
}

std::string clip(const std::string& value, std::size_t width) {
  const std::string s = term(value);  // escaped before it is measured
  std::size_t chars = 0;
  std::size_t cut = std::string::npos;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;  // a continuation byte
    if (chars == width - 1) cut = i;
    if (++chars > width) return s.substr(0, cut) + "~";
  }
  return s;
}

std::string cell(const std::string& s, std::size_t width) {
  return output_width() ? clip(s, width) : term(s);
}

std::string last_cell(const std::string& s, std::size_t width) {
  const auto w = output_width();
  if (!w) return term(s);
  return clip(s, width + (*w > 80 ? *w - 80 : 0));
}

void print_summary_table(const std::vector<CertificateSummary>& rows, Time now) {
  const bool colour = colour_stdout();
  std::cout << pad("FP", 9) << pad("STATUS", 11) << pad("EXPIRES", 11) << pad("WHEN", 14) << pad("CVR", 9)
            << pad("TYPE", 9) << "MAILBOX OR NAME\n";
  for (const auto& r : rows) {
    const std::string cvr = r.organisation_cvr ? *r.organisation_cvr : r.cvr.value_or("-");
    const std::string type = r.type == oces::CertificateType::none ? "-"
                             : r.type == oces::CertificateType::organisation ? "org"
                                                                              : std::string(oces::to_string(r.type));
    const long long left = days_left(r.not_after, now);
    const Colour c = r.status != CertificateStatus::active ? Colour::bold
                     : left < 0                            ? Colour::red
                     : left <= 30                          ? Colour::yellow
                                                           : Colour::green;
    const bool paint_it = colour && (r.status == CertificateStatus::active);
    std::cout << pad(r.fingerprint.substr(0, 8), 9) << pad(std::string(to_string(r.status)), 11)
              << pad(date_only(r.not_after), 11) << paint(pad(relative_days(r.not_after, now), 14), c, paint_it)
              << pad(cvr, 9) << pad(type, 9) << last_cell(r.mailbox ? *r.mailbox : r.common_name.value_or("-"), 17) << '\n';
  }
}

}  // namespace dpgcert::cli
