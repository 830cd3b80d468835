// What the tool writes to a terminal, and its last line of defence: values that came from a file,
// a certificate or the store are escaped (core/text.hpp, docs/output.md) before they are printed;
// an exception no command caught becomes a message and exit 3.
#pragma once

#include <string>
#include <string_view>

namespace dpgcert::cli {

/// `s`, a value from a file, a certificate or the store, made safe to print on a terminal: control
/// characters and bytes that are not UTF-8 become \xHH, C1 and bidirectional controls \uHHHH
/// (detail::terminal_text). Escaping twice changes nothing.
[[nodiscard]] std::string term(std::string_view s);

/// Makes the process undumpable before it reads any secret: no core file (RLIMIT_CORE 0) and
/// PR_SET_DUMPABLE 0 (no core, no ptrace attach by the same user, /proc/PID/mem closed), so a crash
/// during export cannot leave the password, the master key or a private key on disk.
void harden_process() noexcept;

/// Makes std::terminate (an exception thrown where none may be, say in a worker thread) print a
/// message and exit with status 3 instead of aborting (an abort leaves a core file).
void install_terminate_handler();

/// Reports an exception that escaped every command: {"error": ...} on stdout when `--json` is among
/// the arguments, else a message on stderr. Returns 3 (exit_unreadable).
[[nodiscard]] int report_escaped_exception(int argc, char** argv, std::string_view what);

}  // namespace dpgcert::cli
