// Shared by the store command files: opening the store, running a command body, and output
// helpers (tables and JSON of certificates).
#pragma once

#include "store_cli.hpp"

#include <dpgcert/store.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dpgcert::cli {

/// The options to open the store the global options name: --now as its clock, the
/// DPGCERT_KEY_FILE / DPGCERT_PASSPHRASE overrides, else the configuration file's key source.
[[nodiscard]] StoreOptions store_options(const StoreGlobal& g, const Common& common);
/// Where a token's user PIN comes from: --pin-file, --pin-env, DPGCERT_PIN, else a prompt without
/// echo when there is a terminal. Never an argument.
[[nodiscard]] token::PinSource pin_source(const StoreGlobal& g);
/// The PIN now (for a new key source), from pin_source(); Error(invalid_argument) when there is none.
[[nodiscard]] SecretBytes read_pin(const StoreGlobal& g, const std::string& token_uri);
/// Opens the store the global options name (open_cli_store).
[[nodiscard]] std::unique_ptr<Store> open_store(const StoreGlobal& g, const Common& common);
/// Throws Error(invalid_argument) when a secret's variable is one a command hook inherits (PATH,
/// HOME, LANG, TZ, LC_*: command_hook_inherits()).
void refuse_inherited_secret_variable(const std::string& var);
/// Runs a command body; errors become a message and exit code 3 (64 for usage errors).
int guarded(const Common& common, const std::function<int()>& body);

/// A JSON string, or null.
[[nodiscard]] nlohmann::json opt(const std::optional<std::string>& v);
/// "2026-11-15".
[[nodiscard]] std::string date_only(Time t);
/// `s` escaped for the terminal (term()) and padded to `width`; a longer value keeps one space
/// before the next column.
[[nodiscard]] std::string pad(std::string s, std::size_t width);
/// Whole days from `now` to `not_after`, rounded towards the past.
[[nodiscard]] long long days_left(Time not_after, Time now);
/// A certificate summary as the store commands print it in JSON.
[[nodiscard]] nlohmann::json summary_json(const CertificateSummary& s, Time now);
/// `text` parsed as JSON, or as a string when it is not JSON.
[[nodiscard]] nlohmann::json parse_or_text(const std::string& text);
/// Escapes `s` for the terminal (term()) and cuts it to at most `width` characters (UTF-8 code points, never inside one), marking the cut
/// with "~".
[[nodiscard]] std::string clip(const std::string& s, std::size_t width);
/// A table cell: cut to `width` (clip) on a terminal, whole when piped or with --wide.
[[nodiscard]] std::string cell(const std::string& s, std::size_t width);
/// The last cell of a table laid out for 80 columns: on a terminal it gets the columns beyond 80 too.
[[nodiscard]] std::string last_cell(const std::string& s, std::size_t width);
/// The certificate table of list and org show: 80 columns (more on a wider terminal; never cut when piped), soonest expiry first, the fingerprint
/// cut to 8 digits (enough for show, export and retire), dates in UTC with how far away they are.
void print_summary_table(const std::vector<CertificateSummary>& rows, Time now);

}  // namespace dpgcert::cli
