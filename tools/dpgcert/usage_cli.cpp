// What the tool says about a command line it cannot parse: CLI11's message, plus a hint where one
// helps ("did you mean", where passwords come from), as text or as the documented JSON error.
#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace dpgcert::cli {
namespace {

/// Levenshtein distance (small strings: command and option names).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

/// The closest of `names` to `typed`: within two edits (or one third of its length), or a name
/// `typed` is a prefix of; empty when none is close.
std::string closest(std::string_view typed, const std::vector<std::string>& names) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, typed.size() / 3) + 1;
  for (const auto& n : names) {
    std::size_t d = edit_distance(typed, n);
    if (typed.size() >= 3 && n.starts_with(typed)) d = std::min<std::size_t>(d, 1);
    if (d < best_distance) {
      best_distance = d;
      best = n;
    }
  }
  return best;
}

std::vector<std::string> visible_subcommands(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app->get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); })) {
    names.push_back(sub->get_name());
  }
  return names;
}

/// The long option names (with "--") of an app and the parents its options fall through to.
std::vector<std::string> long_options(const std::vector<const CLI::App*>& chain) {
  std::vector<std::string> names;
  for (const CLI::App* a : chain) {
    for (const CLI::Option* o : a->get_options()) {
      for (const auto& l : o->get_lnames()) names.push_back("--" + l);
    }
  }
  return names;
}

const CLI::Option* find_option(const std::vector<const CLI::App*>& chain, const std::string& name) {
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (const CLI::Option* o = (*it)->get_option_no_throw(name)) return o;
  }
  return nullptr;
}

std::string command_path(const std::vector<const CLI::App*>& chain) {
  std::string path = "dpgcert";
  for (std::size_t i = 1; i < chain.size(); ++i) {
    path += ' ';
    path += chain[i]->get_name();
  }
  return path;
}

/// The pieces one after the other (not `"literal" + std::string&&`: GCC 12 -O3 warns falsely).
std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out += p;
  return out;
}

}  // namespace

UsageProblem explain_usage_error(const CLI::App& app, const CLI::ParseError& error,
                                 const std::vector<std::string>& args) {
  UsageProblem p;
  p.message = error.what();
  std::vector<const CLI::App*> chain{&app};
  bool after_double_dash = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (after_double_dash) continue;
    if (a == "--") {
      after_double_dash = true;
      continue;
    }
    if (a.size() > 1 && a[0] == '-') {
      const std::string name = a.substr(0, a.find('='));
      if ((name == "--password" || name.starts_with("--pass")) && find_option(chain, name) == nullptr) {
        p.message = cat({"passwords are never taken as arguments ('", name, "')"});
        p.hint = "use --password-file FILE, --password-env VAR or --password-stdin";
        return p;
      }
      const CLI::Option* o = find_option(chain, name);
      if (o == nullptr) {
        if (!name.starts_with("--")) continue;
        p.message = cat({"unknown option '", name, "' for '", command_path(chain), "'"});
        const std::string near = closest(name, long_options(chain));
        p.hint = near.empty() ? cat({"see ", command_path(chain), " --help"}) : cat({"did you mean ", near, "?"});
        return p;
      }
      if (o->get_type_size_max() > 0 && a.find('=') == std::string::npos) ++i;  // its value
      continue;
    }
    const CLI::App* current = chain.back();
    const CLI::App* sub = nullptr;
    try {
      sub = current->get_subcommand(a);
    } catch (const CLI::OptionNotFound&) {
      sub = nullptr;
    }
    if (sub != nullptr) {
      chain.push_back(sub);
      continue;
    }
    if (current->get_require_subcommand_min() > 0) {
      p.message = cat({"'", a, "' is not a command of '", command_path(chain), "'"});
      const std::string near = closest(a, visible_subcommands(current));
      p.hint = near.empty() ? cat({"see ", command_path(chain), " --help"})
                            : cat({"did you mean '", command_path(chain), " ", near, "'?"});
      return p;
    }
  }
  if (chain.back()->get_require_subcommand_min() > 0 && chain.back()->get_subcommands().empty()) {
    std::string names;
    for (const auto& n : visible_subcommands(chain.back())) {
      if (!names.empty()) names += ", ";
      names += n;
    }
    p.message = cat({"'", command_path(chain), "' needs a command: ", names});
    p.hint = cat({"see ", command_path(chain), " --help"});
  }
  return p;
}

int report_usage_error(const UsageProblem& problem, bool json) {
  if (json) {
    nlohmann::json e{{"code", "invalid_argument"}, {"message", problem.message}};
    if (!problem.hint.empty()) e["hint"] = problem.hint;
    print_json({{"error", e}});
  } else {
    std::cerr << "dpgcert: usage: " << problem.message << '\n';
    if (!problem.hint.empty()) std::cerr << "dpgcert: hint: " << problem.hint << '\n';
  }
  return exit_usage;
}

}  // namespace dpgcert::cli
