// A local test server run as a child process: started on 127.0.0.1 port 0, it prints "PORT <n>"
// once it listens (or, as `openssl ocsp -port 0` does, "ACCEPT <address>:<n> ..."); stopped by its PID (SIGTERM, then SIGKILL) when the object goes.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace dpgcert::test {

class LocalServer {
 public:
  explicit LocalServer(const std::vector<std::string>& argv) {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    REQUIRE_MESSAGE(rc == 0, "cannot start " << argv[0]);
    // The first line says the port; give it 10 s.
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char buf[256];
      const ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    if (line.starts_with("PORT ")) port_ = std::stoi(line.substr(5));
    if (line.starts_with("ACCEPT ")) {
      const std::size_t colon = line.find(' ', 7) == std::string::npos ? line.rfind(':') : line.rfind(':', line.find(' ', 7));
      if (colon != std::string::npos) port_ = std::atoi(line.c_str() + colon + 1);
    }
    REQUIRE_MESSAGE(port_ > 0, argv[0] << " did not say its port: '" << line << "'");
  }
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;
  ~LocalServer() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    (void)::waitpid(pid_, &status, 0);
  }
  [[nodiscard]] int port() const noexcept { return port_; }
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace dpgcert::test
