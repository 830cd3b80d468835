// Sink kind "command": a program run once per event with the event as JSON on stdin.
#include "lifecycle/sinks/sink_kind.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace dpgcert {
namespace {

using nlohmann::json;
using lifecycle_detail::bad_setting;
using lifecycle_detail::settings_of;
using Steady = std::chrono::steady_clock;

constexpr std::int64_t kMaxTimeoutSeconds = 3600;

std::string errno_text(int err) { return std::strerror(err); }

struct CommandSettings {
  std::vector<std::string> argv;
  std::chrono::seconds timeout{30};
};

CommandSettings command_settings(const SinkConfig& sink) {
  const json j = settings_of(sink);
  CommandSettings c;
  if (!j.contains("argv") || !j["argv"].is_array() || j["argv"].empty()) {
    bad_setting(sink, "a command sink needs \"argv\": the program and its arguments");
  }
  for (const json& a : j["argv"]) {
    if (!a.is_string() || a.get<std::string>().find('\0') != std::string::npos) {
      bad_setting(sink, "\"argv\" holds something that is not an argument");
    }
    c.argv.push_back(a.get<std::string>());
  }
  if (c.argv[0].empty()) bad_setting(sink, "the program name is empty");
  if (j.contains("timeout_seconds")) {
    const json& t = j["timeout_seconds"];
    if (!t.is_number_integer() || t.get<std::int64_t>() < 1 || t.get<std::int64_t>() > kMaxTimeoutSeconds) {
      bad_setting(sink, "\"timeout_seconds\" is 1 to " + std::to_string(kMaxTimeoutSeconds));
    }
    c.timeout = std::chrono::seconds(t.get<std::int64_t>());
  }
  return c;
}

/// SIGPIPE blocked on this thread while writing to a child that may not read: a closed pipe is
/// then EPIPE, and the signal it raised is consumed, not delivered.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{};
        (void)sigtimedwait(&pipe_, nullptr, &zero);
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_{};
  sigset_t old_{};
  bool was_pending_ = false;
};

/// The hook's environment: the allow-listed variables of this process (command_hook_inherits), plus the
/// event's key fields as DPGCERT_EVENT_* variables.
std::vector<std::string> hook_environment(const json& event) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (command_hook_inherits(entry.substr(0, entry.find('=')))) env.emplace_back(entry);
  }
  auto str = [&](const char* key) -> std::string {
    const json& v = event.contains(key) ? event[key] : json(nullptr);
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return std::to_string(v.get<long long>());
    return "";
  };
  env.push_back("DPGCERT_EVENT_ID=" + str("id"));
  env.push_back("DPGCERT_EVENT_KIND=" + str("kind"));
  env.push_back("DPGCERT_STAGE_DAYS=" + str("stage_days"));
  env.push_back("DPGCERT_DAYS_LEFT=" + str("days_left"));
  env.push_back("DPGCERT_FINGERPRINT=" + str("fingerprint_sha256"));
  env.push_back("DPGCERT_CVR=" + str("cvr"));
  env.push_back("DPGCERT_MAILBOX=" + str("mailbox"));
  env.push_back("DPGCERT_NOT_AFTER=" + str("effective_not_after"));
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (std::string& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

class CommandRunner final : public lifecycle_detail::SinkRunner {
 public:
  explicit CommandRunner(CommandSettings settings) : settings_(std::move(settings)) {}

  std::vector<SinkResult> deliver(std::span<const Delivery> batch) override {
    std::vector<SinkResult> out;
    out.reserve(batch.size());
    for (const Delivery& d : batch) out.push_back(run(d));
    return out;
  }

 private:
  SinkResult run(const Delivery& d) {
    const json event = json::parse(d.event.payload, nullptr, false);
    if (event.is_discarded()) return SinkResult::retry("the stored event is not JSON");
    std::vector<std::string> args = settings_.argv;
    std::vector<std::string> env = hook_environment(event);
    std::vector<char*> argv = c_strings(args);
    std::vector<char*> envp = c_strings(env);

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return SinkResult::retry("cannot make a pipe: " + errno_text(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
    // The hook's output goes to our stderr: stdout may be a JSON Lines stream of our own.
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group, so a timeout kills whatever it started too; default signal
    // dispositions and an empty mask, whatever this process uses.
    sigset_t none;
    sigemptyset(&none);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = 0;
    const bool search = settings_.argv[0].find('/') == std::string::npos;
    const int rc = search ? ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data())
                          : ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(fds[0]);
    if (rc != 0) {
      ::close(fds[1]);
      return SinkResult::retry("cannot run '" + settings_.argv[0] + "': " + errno_text(rc));
    }
    const auto deadline = Steady::now() + settings_.timeout;
    feed(fds[1], d.event.payload + "\n", deadline);
    ::close(fds[1]);
    return wait(pid, deadline);
  }

  /// Writes the event to the hook's stdin until done, the hook closes it, or the deadline.
  static void feed(int fd, const std::string& data, Steady::time_point deadline) {
    SigpipeGuard guard;
    (void)::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    std::size_t off = 0;
    while (off < data.size()) {
      const ssize_t w = ::write(fd, data.data() + off, data.size() - off);
      if (w >= 0) {
        off += static_cast<std::size_t>(w);
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return;  // EPIPE: it does not read stdin; its exit status decides
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now()).count();
      if (left <= 0) return;
      pollfd p{fd, POLLOUT, 0};
      (void)::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    }
  }

  SinkResult wait(pid_t pid, Steady::time_point deadline) const {
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
      int status = 0;
      const pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) return verdict(status);
      if (r < 0 && errno != EINTR) return SinkResult::retry("cannot wait for the hook: " + errno_text(errno));
      if (Steady::now() >= deadline) {
        ::kill(-pid, SIGKILL);  // the whole group: a shell's children too
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        return SinkResult::retry("'" + settings_.argv[0] + "' did not finish within " +
                                 std::to_string(settings_.timeout.count()) + " s and was killed");
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
  }

  SinkResult verdict(int status) const {
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return SinkResult::ok();
    if (WIFEXITED(status)) {
      return SinkResult::retry("'" + settings_.argv[0] + "' exited with status " + std::to_string(WEXITSTATUS(status)));
    }
    if (WIFSIGNALED(status)) {
      return SinkResult::retry("'" + settings_.argv[0] + "' was killed by signal " + std::to_string(WTERMSIG(status)));
    }
    return SinkResult::retry("'" + settings_.argv[0] + "' ended abnormally");
  }

  CommandSettings settings_;
};

}  // namespace

bool command_hook_inherits(std::string_view name) noexcept {
  return name == "PATH" || name == "HOME" || name == "LANG" || name == "TZ" || name.starts_with("LC_");
}

SinkConfig command_sink(std::string name, std::vector<std::string> argv, std::chrono::seconds timeout) {
  SinkConfig s;
  s.name = std::move(name);
  s.kind = "command";
  s.settings = lifecycle_detail::settings_text(json{{"argv", std::move(argv)}, {"timeout_seconds", timeout.count()}});
  validate_sink(s);
  return s;
}

namespace lifecycle_detail {

SinkKindEntry command_sink_kind() {
  SinkKindEntry k;
  SinkOption program;
  program.key = "argv";
  program.type = SinkOption::Type::program;
  program.help = "Run PROG per event: the event as JSON on stdin, DPGCERT_* variables";
  program.required = true;
  program.flag = "command";  // --command PROG chooses the kind
  SinkOption args;
  args.key = "argv";
  args.type = SinkOption::Type::strings;
  args.help = "An argument for --command (repeatable)";
  args.flag = "arg";
  args.config_key = "args";
  const SinkOption timeout = timeout_option();
  k.info.name = "command";
  k.info.summary = "a program run once per event with the event as JSON on stdin";
  k.info.options = {program, args, timeout};
  k.validate = [](const SinkConfig& sink) { (void)command_settings(sink); };
  k.make = [](const SinkConfig& sink, const EventCallback*) -> std::unique_ptr<SinkRunner> {
    return std::make_unique<CommandRunner>(command_settings(sink));
  };
  k.describe = [](const SinkConfig& sink) {
    const json j = settings_of(sink);
    std::string out;
    if (j.contains("argv") && j["argv"].is_array()) {
      for (const auto& a : j["argv"]) out += (out.empty() ? "" : " ") + (a.is_string() ? a.get<std::string>() : "?");
    }
    if (j.contains("timeout_seconds")) out += " (timeout " + j["timeout_seconds"].dump() + " s)";
    return out.empty() ? std::string("?") : out;
  };
  return k;
}

}  // namespace lifecycle_detail
}  // namespace dpgcert
