// Sink kind "jsonl": each event as one JSON line appended to a file (or standard output).
#include "lifecycle/sinks/sink_kind.hpp"

#include <dpgcert/error.hpp>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dpgcert {
namespace {

using nlohmann::json;
using lifecycle_detail::bad_setting;
using lifecycle_detail::settings_of;

std::string errno_text(int err) { return std::strerror(err); }

std::string jsonl_path(const SinkConfig& sink) {
  const json j = settings_of(sink);
  if (!j.contains("path") || !j["path"].is_string() || j["path"].get<std::string>().empty()) {
    bad_setting(sink, "a jsonl sink needs \"path\" (a file, or \"-\" for standard output)");
  }
  return j["path"].get<std::string>();
}

/// Appends one line per event with a single write() each, then fsyncs once for the batch: only
/// what reached the disk is acknowledged. A failed write is cut off again (ftruncate), so a
/// reader never sees half a line from it.
class JsonlRunner final : public lifecycle_detail::SinkRunner {
 public:
  explicit JsonlRunner(std::string path) : path_(std::move(path)) {}

  std::vector<SinkResult> deliver(std::span<const Delivery> batch) override {
    const bool to_stdout = path_ == "-";
    const int fd = to_stdout ? STDOUT_FILENO : ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return all(batch.size(), "cannot open '" + path_ + "': " + errno_text(errno));
    struct stat st {};
    const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    std::size_t written = 0;
    std::string error;
    for (const Delivery& d : batch) {
      const off_t before = regular ? ::lseek(fd, 0, SEEK_END) : 0;
      std::string line = d.event.payload;
      line += '\n';
      if (!write_all(fd, line, error)) {
        if (regular && before >= 0) (void)::ftruncate(fd, before);
        break;
      }
      ++written;
    }
    // fsync: a regular file must reach the disk; pipes and terminals cannot be synced.
    if (written > 0 && regular && ::fsync(fd) != 0) {
      error = "cannot fsync '" + path_ + "': " + errno_text(errno);
      written = 0;
    }
    if (!to_stdout) ::close(fd);
    std::vector<SinkResult> out(batch.size(), SinkResult::retry(error));
    for (std::size_t i = 0; i < written; ++i) out[i] = SinkResult::ok();
    return out;
  }

 private:
  bool write_all(int fd, const std::string& data, std::string& error) const {
    std::size_t off = 0;
    while (off < data.size()) {
      const ssize_t w = ::write(fd, data.data() + off, data.size() - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        error = "cannot write '" + path_ + "': " + errno_text(errno);
        return false;
      }
      off += static_cast<std::size_t>(w);
    }
    return true;
  }

  static std::vector<SinkResult> all(std::size_t n, const std::string& error) {
    return std::vector<SinkResult>(n, SinkResult::retry(error));
  }

  std::string path_;
};

}  // namespace

SinkConfig jsonl_sink(std::string name, const std::string& path) {
  SinkConfig s;
  s.name = std::move(name);
  s.kind = "jsonl";
  std::string p = path;
  if (p != "-" && !p.empty()) {
    std::error_code ec;
    const auto abs = std::filesystem::absolute(p, ec);
    if (!ec) p = abs.lexically_normal().string();
  }
  s.settings = lifecycle_detail::settings_text(json{{"path", p}});
  validate_sink(s);
  return s;
}

namespace lifecycle_detail {

SinkKindEntry jsonl_sink_kind() {
  SinkKindEntry k;
  SinkOption path;
  path.key = "path";
  path.type = SinkOption::Type::path;
  path.help = "Append events as JSON Lines to FILE ('-': stdout)";
  path.required = true;
  path.flag = "jsonl";  // --jsonl FILE chooses the kind
  k.info.name = "jsonl";
  k.info.summary = "JSON Lines appended to a file (or standard output)";
  k.info.options = {path};
  k.validate = [](const SinkConfig& sink) { (void)jsonl_path(sink); };
  k.make = [](const SinkConfig& sink, const EventCallback*) -> std::unique_ptr<SinkRunner> {
    return std::make_unique<JsonlRunner>(jsonl_path(sink));
  };
  k.describe = [](const SinkConfig& sink) { return jsonl_path(sink); };
  return k;
}

}  // namespace lifecycle_detail
}  // namespace dpgcert
