#include "terminal.hpp"

#include "cli.hpp"
#include "core/text.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <exception>
#include <iostream>

#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

namespace dpgcert::cli {

std::string term(std::string_view s) { return detail::terminal_text(s); }

void harden_process() noexcept {
  const rlimit none{0, 0};
  (void)::setrlimit(RLIMIT_CORE, &none);
  (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

void install_terminate_handler() {
  std::set_terminate([] {
    // Only async-signal-safe calls: the process may be in any state.
    static constexpr char kMessage[] = "dpgcert: internal: unexpected termination (an exception was not handled)\n";
    [[maybe_unused]] const auto n = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
    std::_Exit(exit_unreadable);
  });
}

int report_escaped_exception(int argc, char** argv, std::string_view what) {
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--json") json = true;
  }
  const std::string message = "unexpected error: " + std::string(what);
  if (json) {
    print_json(nlohmann::json{{"error", {{"code", "internal"}, {"message", message}}}});
  } else {
    std::cerr << "dpgcert: internal: " << term(message) << '\n';
  }
  return exit_unreadable;
}

}  // namespace dpgcert::cli
